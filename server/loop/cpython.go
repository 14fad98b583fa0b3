package loop

import "time"

// The release points of a CPython asyncio loop: the model's parameters
// besides Config.SwitchInterval (CPython's sys.getswitchinterval(), 5ms:
// measured 0.005 on /usr/bin/python3 3.11.2).
//
// CPython's loop thread releases the GIL around every blocking call it
// makes (Py_BEGIN_ALLOW_THREADS in the select and socket modules) and takes
// it back afterwards. While a CPU-bound thread waits for the GIL, it may
// take it at such a release, and the loop then gets it back only through a
// forced switch: a wait of a switch interval (the convoy effect, bpo-7946).
// It always does when the loop blocks in epoll_wait, and at some of the
// calls that return at once (releaseLoss). So what a light
// request costs the loop under a CPU-bound thread is its release points,
// weighted so, times the switch interval.
//
// Measured with strace -f on uvicorn 0.17.6 (h11, asyncio's selector loop,
// no uvloop or httptools) and testdata/apps/fastapi_app.py under CPython
// 3.11.2, at about 90 requests/s of one keep-alive connection (200
// requests each; docs/loop.md, "Calibration against uvicorn", has the
// commands). Per /light, the loop thread made: epoll_wait (returns the
// request), recvfrom, epoll_wait(0), sendto, sendto, epoll_wait(0), then
// blocked in epoll_wait again: six release points. Per request offloaded
// to a thread it made the same, plus an epoll_wait that returns the
// self-pipe, two recvfrom on it and an epoll_wait(0) before the response;
// per request offloaded to a process pool, also one write to the pool's
// wake-up pipe at submission.
const (
	// recvsPerRequest is the recvfrom calls that read a request: one
	// reads a whole GET.
	recvsPerRequest = 1
	// sendsPerResponse is the sendto calls that write a response: one for
	// http.response.start (status and headers), one for the body.
	sendsPerResponse = 2
	// selfPipeRecvs is the recvfrom calls on the loop's self-pipe after
	// call_soon_threadsafe wakes it (an executor's result): the byte, then
	// EAGAIN (BaseSelectorEventLoop._read_from_self reads until empty).
	selfPipeRecvs = 2
	// poolWakeWrites is the writes to a ProcessPoolExecutor's wake-up pipe
	// (its _ThreadWakeup) that submitting a job costs the loop thread.
	poolWakeWrites = 1
)

// pythonPerRequest is the CPU time the loop thread spends for a request
// (h11's parser, Starlette's routing, FastAPI, the middleware, asyncio's
// iterations and the socket calls), burnt on the loop with the GIL held.
// Measured: uvicorn's loop thread was on the CPU 0.68-0.70 ms per /light
// (sum_exec_runtime in /proc/PID/task/TID/schedstat over 1,000 requests at
// 100 per second, two runs, less the idle share of the 100 Hz heartbeat,
// 19-20 ms a second; load below 1, 2026-12-02). The earlier figure, 0.59
// ms from utime+stime, came from tick sampling, which a thread that wakes
// 200 times a second defeats. The model's own handling of a request, on
// the loop goroutine, is a few microseconds of that.
const pythonPerRequest = 650 * time.Microsecond

// The Python an offloaded request costs besides a light one's, measured on
// uvicorn 0.17.6 under CPython 3.11.2 as each thread's CPU time
// (utime+stime of /proc/PID/task/TID/stat) over 1,000 sequential
// /block?ms=1 against 1,000 /light, 10ms apart, two runs each (load average
// below 1; docs/loop.md, "Calibration against uvicorn"):
//
//   - the loop thread: 0.40 to 0.43 ms more per offloaded request, with a
//     ThreadPoolExecutor and a ProcessPoolExecutor alike (run_in_executor's
//     submit, wrap_future and chaining; then call_soon_threadsafe's callback
//     setting the asyncio future, and the task resuming). The model burns
//     it on the loop, half at submission and half at the resumption; the
//     split was not measured;
//   - a ThreadPoolExecutor's worker thread: 0.11 to 0.13 ms per job around
//     the work itself (its work queue, the work item, setting the future);
//   - a ProcessPoolExecutor's threads: its manager thread 0.35 ms per job
//     (woken at submission to move the work item to the call queue, and
//     again to read and unpickle the result and complete the future), its
//     queue's feeder thread 0.11 ms (pickling the call item and writing it
//     to the pipe). The model charges the feeder's and half of the
//     manager's at submission, the other half when the result is in, by
//     the goroutine that feeds the child, with the GIL held.
const (
	offloadSubmitPython = 200 * time.Microsecond
	offloadResumePython = 200 * time.Microsecond
	threadJobPython     = 120 * time.Microsecond
	poolSubmitPython    = 285 * time.Microsecond
	poolResultPython    = 175 * time.Microsecond
)

// CallKind is a kind of blocking call that returns at once (GIL.Syscall):
// they differ in how long the GIL is free around them, and so in how often
// a waiting thread takes it.
type CallKind int

// The kinds of quick calls the loop thread makes.
const (
	// PollCall is an epoll_wait(0) with events or callbacks ready: a
	// microsecond in the kernel.
	PollCall CallKind = iota
	// RecvCall is a recvfrom of bytes already there: a request, or the
	// self-pipe's byte.
	RecvCall
	// SendCall is a sendto of a response into a loopback socket, or a
	// write to a pipe: the kernel delivers the bytes and wakes the reader
	// before it returns, tens of microseconds.
	SendCall
	numCallKinds
)

// releaseLoss is, for each kind of quick call, the fraction of the loop's
// calls at which a waiting CPU-bound thread takes the GIL, costing the loop
// a forced switch. A poll that blocks always loses it (measured: 99% of the
// polls that timed out during a CPU-bound offload).
//
// Measured on uvicorn 0.17.6 under CPython 3.11.2 by timing each call the
// loop thread makes (bench/loop/gil_release.sh: testdata/apps/fastapi_app.py
// with the selector's select and the transports' socket recv and send
// wrapped in perf_counter, bench/loop/gilprobe.py; a call that took over
// 3 ms waited for a forced switch), counting only the calls made while a
// /cpu ran in the ThreadPoolExecutor of 2. Load average below 1, on
// 2026-12-02:
//
//   - one request at a time (bench/loop/lone_request.py: 40 /light one
//     after another during a /cpu?ms=3000; three runs): sendto lost 69-72
//     of 80 (86-90%), recvfrom 1-7 of 40 (2.5-17%), epoll_wait(0) 0-8 of
//     250-257 (0-3%). A lost call cost the loop 5.25 ms on average;
//   - under the shipped offload scenario's traffic (100 req/s, threads
//     variant, seven runs): sendto 39-52%, recvfrom 5-9%, epoll_wait(0)
//     2-4%; a lost call cost 6.4-9 ms there.
//
// A sendto on loopback delivers the bytes and wakes the reader before it
// returns, long enough for the waiting thread to wake and take the GIL; an
// epoll_wait(0) returns within a microsecond. The model takes the odds of a
// request alone. With those measured under load it was too kind to threads
// again: the offload scenario's light p99 was half uvicorn's (52 against
// 108 ms, median of 3), its lag p99 0.84 of it. Under load uvicorn loses
// fewer calls but each costs more, and whatever else costs it time there
// was not found. With the odds of a request alone the threads variant's
// light and lag p99 were 0.79-1.02 and 1.06-1.39 of uvicorn's over six runs
// (BENCHMARKS.md), and a lone /light during a CPU-bound thread took
// 12.1-12.8 ms where uvicorn's took 11.1-11.7 ms.
var releaseLoss = [numCallKinds]float64{
	PollCall: 0.02,
	RecvCall: 0.15,
	SendCall: 0.88,
}

// The iterations of the loop, each ending with one epoll_wait (a release
// point; timeout 0 when callbacks are ready, else it blocks) are the other
// part of the pattern. Loop.Run makes one per batch of ready callbacks, as
// BaseEventLoop._run_once does, and a request spends these iterations:
//
//   - data_received (the recvfrom) creates the request's task, which runs
//     in the next iteration (call_soon): Server.dataReceived;
//   - the task's done callbacks run in the iteration after the response:
//     Server.sendResponse;
//   - an executor's result arrives through the self-pipe, and the awaiting
//     task resumes in the iteration after the pipe is read: Loop.Wake.

// ioCalls makes n blocking calls of kind that return at once, such as a
// recvfrom of bytes already there (GIL.Syscall). The caller must hold the
// GIL.
func ioCalls(g *GIL, kind CallKind, n int) {
	for range n {
		g.Syscall(kind)
	}
}

// dataReceived is the protocol callback that reads a request off its
// socket. h11 parses it and creates the request's task, begin, which runs
// in the loop's next iteration. The request's Python CPU time is burnt
// here.
func (s *Server) dataReceived(rq *request) {
	ioCalls(s.gil, RecvCall, recvsPerRequest)
	burnCPU(pythonPerRequest, s.gil.Yield)
	s.loop.Soon(func() { s.begin(rq) })
}

// sendResponse writes a finished request's response: sendsPerResponse
// sendto calls. The last one puts the response on the wire (it goes to the
// connection's goroutine) before the loop takes the GIL back, since a
// sendto delivers its bytes before it returns and only then waits for the
// GIL: the client is not kept waiting by a switch interval the loop loses
// there. The task's done callbacks run in the next iteration.
func (s *Server) sendResponse(rq *request) {
	ioCalls(s.gil, SendCall, sendsPerResponse-1)
	close(rq.done)
	s.gil.Syscall(SendCall)
	s.loop.Soon(func() {})
}
