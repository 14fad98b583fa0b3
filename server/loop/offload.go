package loop

import (
	"bufio"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sawtooth-dev/sawtooth/server/workload"
)

// ChildEnv is the environment variable that marks a re-execution of the
// binary as an offload child: the binary's main (or a test's TestMain) must
// call RunOffloadChild and exit when it is set to ChildEnvOffload.
const (
	ChildEnv        = "SAWTOOTH_CHILD"
	ChildEnvOffload = "offload"
)

// executor runs heavy work away from the loop, like asyncio's
// run_in_executor.
type executor interface {
	// submit runs j in the context ctx and calls done, from another
	// goroutine, with the result. It never blocks.
	submit(ctx context.Context, j heavyJob, done func(result))
	// workedIn names where the work runs, for the X-Worked-In header.
	workedIn() string
	// goroutines returns the ids of the goroutines that run the work, for
	// stack dumps.
	goroutines() []uint64
	// close stops the executor; work in progress may be abandoned.
	close()
}

// threadPool runs work on K goroutines that behave like CPython threads:
// each holds gil (nil for work that releases the GIL) while it runs, yields
// it at the work's switch points and releases it while it blocks.
type threadPool struct {
	gil *GIL
	q   *queue[threadTask]
	ids []atomic.Uint64
	wg  sync.WaitGroup
}

type threadTask struct {
	ctx  context.Context
	job  heavyJob
	done func(result)
}

func newThreadPool(k int, gil *GIL) *threadPool {
	p := &threadPool{gil: gil, q: newQueue[threadTask](), ids: make([]atomic.Uint64, k)}
	p.wg.Add(k)
	for i := range k {
		go p.worker(i)
	}
	return p
}

func (p *threadPool) worker(i int) {
	defer p.wg.Done()
	p.ids[i].Store(goroutineID())
	for {
		t, ok := p.q.pop()
		if !ok {
			return
		}
		t.done(p.run(t.ctx, t.job))
	}
}

func (p *threadPool) run(ctx context.Context, j heavyJob) result {
	g := p.gil
	var yield workload.Yield
	if g != nil {
		yield = g.Yield
	}
	var res result
	g.Acquire()
	if j.Kind == workload.Block {
		g.Blocking(func() { res = runHeavy(ctx, j, nil) })
	} else {
		res = runHeavy(ctx, j, yield)
	}
	burnCPU(threadJobPython, yield)
	g.Release()
	res.Pid = os.Getpid()
	return res
}

func (p *threadPool) submit(ctx context.Context, j heavyJob, done func(result)) {
	if !p.q.push(threadTask{ctx, j, done}) {
		done(result{Err: "offload thread pool is closed"})
	}
}

func (p *threadPool) workedIn() string { return "thread" }

func (p *threadPool) goroutines() []uint64 {
	ids := make([]uint64, len(p.ids))
	for i := range p.ids {
		ids[i] = p.ids[i].Load()
	}
	return ids
}

func (p *threadPool) close() {
	p.q.close()
}

// procPool runs work in K child processes, one job at a time each. The job,
// with its request id and payload, is gob-encoded onto the child's stdin and
// the result read back from its stdout, so the cost of serialization and of
// the pipe is real.
//
// The parent's side behaves like a ProcessPoolExecutor's: submitting costs
// the loop a write to the pool's wake-up pipe (poolWakeWrites), and the
// goroutine that feeds a child holds the GIL while it encodes a job onto the
// pipe and while it decodes the result, as the pool's manager and feeder
// threads hold it to pickle and unpickle; those are the pool's wake-ups the
// loop contends with.
type procPool struct {
	exe string
	log *slog.Logger
	gil *GIL
	q   *queue[procTask]
	wg  sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	children []*child // by slot; nil while a slot has none
}

type procTask struct {
	job  heavyJob
	done func(result)
}

// child is one offload process and its pipes.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	enc   *gob.Encoder
	dec   *gob.Decoder
}

func newProcPool(k int, exe string, log *slog.Logger, gil *GIL) (*procPool, error) {
	p := &procPool{exe: exe, log: log, gil: gil, q: newQueue[procTask](), children: make([]*child, k)}
	for i := range k {
		c, err := p.spawn(i)
		if err != nil {
			p.close()
			return nil, err
		}
		p.children[i] = c
	}
	p.wg.Add(k)
	for i := range k {
		go p.manage(i)
	}
	return p, nil
}

// spawn starts a child for slot i. It runs in its own process group and
// gets SIGKILL if the worker dies, so it is never orphaned.
func (p *procPool) spawn(i int) (*child, error) {
	cmd := exec.Command(p.exe)
	cmd.Env = append(os.Environ(), ChildEnv+"="+ChildEnvOffload)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("offload child %d: %w", i, err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("offload child %d: %w", i, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("offload child %d: start %s: %w", i, p.exe, err)
	}
	return &child{cmd: cmd, stdin: stdin, enc: gob.NewEncoder(stdin), dec: gob.NewDecoder(bufio.NewReader(stdout))}, nil
}

func (c *child) kill() {
	_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	_ = c.stdin.Close()
	_ = c.cmd.Wait()
}

// do sends j to the child and waits for its result. It holds gil while it
// encodes the job (pickling it) and takes it again once the result is in
// (unpickling it), as the pool's threads do.
func (c *child) do(j heavyJob, gil *GIL) (result, error) {
	var res result
	gil.Acquire()
	burnCPU(poolSubmitPython, gil.Yield)
	err := c.enc.Encode(&j)
	gil.Release()
	if err != nil {
		return res, fmt.Errorf("offload child %d: send job: %w", c.cmd.Process.Pid, err)
	}
	if err := c.dec.Decode(&res); err != nil {
		return res, fmt.Errorf("offload child %d: read result: %w", c.cmd.Process.Pid, err)
	}
	// The manager thread wakes to unpickle the result and complete the
	// future: it must take its turn with the GIL.
	gil.Acquire()
	burnCPU(poolResultPython, gil.Yield)
	gil.Release()
	return res, nil
}

// manage feeds slot i's child with jobs, replacing it if it dies.
func (p *procPool) manage(i int) {
	defer p.wg.Done()
	for {
		t, ok := p.q.pop()
		if !ok {
			return
		}
		p.mu.Lock()
		c := p.children[i]
		p.mu.Unlock()
		if c == nil {
			var err error
			if c, err = p.spawn(i); err != nil {
				t.done(result{Err: err.Error()})
				continue
			}
			p.mu.Lock()
			if p.closed {
				p.mu.Unlock()
				c.kill()
				t.done(result{Err: "offload process pool is closed"})
				return
			}
			p.children[i] = c
			p.mu.Unlock()
		}
		res, err := c.do(t.job, p.gil)
		if err != nil {
			p.mu.Lock()
			closed := p.closed
			if p.children[i] == c {
				p.children[i] = nil
			}
			p.mu.Unlock()
			if !closed {
				p.log.Error("offload child failed; replacing it", "err", err)
			}
			c.kill()
			res = result{Err: err.Error()}
		}
		t.done(res)
	}
}

func (p *procPool) submit(ctx context.Context, j heavyJob, done func(result)) {
	ioCalls(p.gil, SendCall, poolWakeWrites)
	j.RequestID = RequestID(ctx)
	if !p.q.push(procTask{j, done}) {
		done(result{Err: "offload process pool is closed"})
	}
}

func (p *procPool) workedIn() string { return "process" }

func (p *procPool) goroutines() []uint64 { return nil }

// close kills every child (and its process group) and waits for them.
func (p *procPool) close() {
	p.q.close()
	p.mu.Lock()
	p.closed = true
	cs := p.children
	p.children = make([]*child, len(cs))
	p.mu.Unlock()
	for _, c := range cs {
		if c != nil {
			c.kill()
		}
	}
	p.wg.Wait()
}

// pids returns the pids of the live children.
func (p *procPool) pids() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var pids []int
	for _, c := range p.children {
		if c != nil {
			pids = append(pids, c.cmd.Process.Pid)
		}
	}
	return pids
}

// RunOffloadChild is the main function of an offload child process: it reads
// gob-encoded jobs from stdin, runs each (CPU work without a GIL: this is a
// separate process) and writes the result to stdout, until stdin is closed.
// The binary's main must call it, before anything else writes to stdout,
// when os.Getenv(ChildEnv) == ChildEnvOffload.
//
// A child belongs to its worker: it ignores the signals a terminal or a
// process-group signal would send it (the worker decides when it stops), and
// exits when its stdin closes, when the worker dies (Pdeathsig, and a check
// of its parent pid every parentCheck, should the signal be missed) or when
// it is killed.
func RunOffloadChild() error {
	signal.Ignore(syscall.SIGINT, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGTTIN, syscall.SIGTTOU)
	go watchParent(os.Getppid(), parentCheck)
	dec := gob.NewDecoder(bufio.NewReader(os.Stdin))
	w := bufio.NewWriter(os.Stdout)
	enc := gob.NewEncoder(w)
	for {
		var j heavyJob
		if err := dec.Decode(&j); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("offload child: read job from stdin: %w", err)
		}
		ctx := context.Background()
		if j.RequestID != "" {
			ctx = WithRequestID(ctx, j.RequestID)
		}
		res := runHeavy(ctx, j, nil)
		res.Pid = os.Getpid()
		if err := enc.Encode(&res); err != nil {
			return fmt.Errorf("offload child: write result to stdout: %w", err)
		}
		if err := w.Flush(); err != nil {
			return fmt.Errorf("offload child: write result to stdout: %w", err)
		}
	}
}

// parentCheck is how often an offload child checks that its worker is alive.
const parentCheck = 200 * time.Millisecond

// watchParent exits the process once its parent is no longer ppid (the
// worker died and the child was reparented).
func watchParent(ppid int, every time.Duration) {
	for range time.Tick(every) {
		if os.Getppid() != ppid {
			fmt.Fprintf(os.Stderr, "offload child %d: worker %d is gone; exiting\n", os.Getpid(), ppid)
			os.Exit(1)
		}
	}
}

// baseProcs is the process's GOMAXPROCS before procsForThreads.
var baseProcs = runtime.GOMAXPROCS(0)

// procsForThreads gives k pool threads that run without the GIL Ps of
// their own. CPython's pool threads are OS threads, which the kernel
// shares the cores with the loop's thread, waking the loop at once when it
// has been idle; a goroutine needs one of GOMAXPROCS Ps, and with k
// CPU-bound goroutines on as many Ps the loop goroutine waits for the Go
// scheduler's preemption (10ms). Measured with 2 threads on 2 cores (the
// offload scenario's threads variant with 4% /cpu and --gil=false, median
// of 3, load below 1, 2026-12-02): light p99 21 ms without, 3.1 ms with;
// the shipped traffic with --set gil=false gave 3.1 ms, uvicorn with the
// app's GIL=false 2.8 ms. With the GIL at most one of them runs at a time.
func procsForThreads(k int) {
	if want := baseProcs + k; runtime.GOMAXPROCS(0) < want {
		runtime.GOMAXPROCS(want)
	}
}
