"""A FastAPI app whose event loop a heavy request can freeze, like the second source article's.

Run it from this folder with uvicorn (or gunicorn -k uvicorn.workers.UvicornWorker):

    OFFLOAD=threads /usr/bin/uvicorn --host 127.0.0.1 --port 8000 --no-access-log fastapi_app:app

Routes (all GET):
    /light           a tiny response
    /cpu?ms=N        N ms of pure-Python CPU work       } heavy: run where
    /block?ms=N      a synchronous N ms sleep           } OFFLOAD says
    /regex?kb=N      Python re over an N KiB JSON doc   }
    /heavy           the heavy route HEAVY names         }
    /healthz         200 "ok", answered on the loop
    /metrics         Prometheus text: sawtooth_loop_lag_seconds and more

Environment:
    OFFLOAD=none       heavy work runs on the event loop (the bug)
    OFFLOAD=threads    loop.run_in_executor(ThreadPoolExecutor, ...) (the article's fix)
    OFFLOAD=processes  loop.run_in_executor(ProcessPoolExecutor, ...) (for pure-Python
                       CPU work, which threads cannot run in parallel because of the GIL)
    POOL_WORKERS=4     size of the pool
    HEAVY=cpu:100      what /heavy does: cpu:MS, block:MS or regex:KB, so that a
                       scenario's variants can change the mix without new traffic
    LOSE_CONTEXT=1     forget to carry the request id into the pool (the contextvars trap);
                       LOSE_CONTEXT=article uses the article's execute_in_thread wrapper,
                       which calls copy_context() in the pool thread and so loses it too
    GIL=false          /cpu does work that releases the GIL (hashlib over a buffer,
                       NumPy-style) instead of pure Python: sawtooth's --gil=false
    LAG_INTERVAL=0.05  heartbeat period in seconds
    LAG_THRESHOLD=0.1  lag in seconds above which the heartbeat warns and dumps stacks

Every response carries X-Request-Id (the client's, or a new one), X-Worker-Pid,
and heavy routes also X-Work-Request-Id (the request id as seen where the work
ran: empty when it was lost) and X-Worked-In (loop, thread or process). These
are the headers sawtooth's built-in server uses.
"""

import asyncio
import contextvars
import logging
import multiprocessing
import os
import sys
import threading
import time
import traceback
import uuid
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

import workload

OFFLOAD = os.environ.get("OFFLOAD", "none")
if OFFLOAD not in ("none", "threads", "processes"):
    raise SystemExit(f"OFFLOAD={OFFLOAD!r}: want none, threads or processes")
POOL_WORKERS = int(os.environ.get("POOL_WORKERS", "4"))
HEAVY = os.environ.get("HEAVY", "cpu:100")
LOSE_CONTEXT = os.environ.get("LOSE_CONTEXT", "")
if LOSE_CONTEXT in ("0", "false"):
    LOSE_CONTEXT = ""
if LOSE_CONTEXT not in ("", "1", "true", "article"):
    raise SystemExit(f"LOSE_CONTEXT={LOSE_CONTEXT!r}: want 0, 1 or article")
GIL = os.environ.get("GIL", "true")
if GIL not in ("true", "false"):
    raise SystemExit(f"GIL={GIL!r}: want true or false")
CPU_FUNC = workload.burn_cpu if GIL == "true" else workload.burn_cpu_released
LAG_INTERVAL = float(os.environ.get("LAG_INTERVAL", "0.05"))
LAG_THRESHOLD = float(os.environ.get("LAG_THRESHOLD", "0.1"))

# uvicorn's error logger: configured by uvicorn, and by gunicorn under UvicornWorker.
log = logging.getLogger("uvicorn.error")

LOOP_LAG = Histogram(
    "sawtooth_loop_lag_seconds",
    "How late the event loop woke the heartbeat task, in seconds.",
    # server/loop.LagBuckets: nine to a decade, so that a p99 read between
    # two bounds is within a quarter of its value.
    buckets=(0.0001, 0.00015, 0.0002, 0.00025, 0.0003, 0.0004, 0.0005, 0.0006, 0.0008,
             0.001, 0.0015, 0.002, 0.0025, 0.003, 0.004, 0.005, 0.006, 0.008,
             0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.06, 0.08,
             0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8,
             1, 1.5, 2, 2.5, 3, 4, 5, 6, 8,
             10, 15, 20, 30),
)
LOOP_STALLS = Counter(
    "sawtooth_loop_stalls_total",
    "Heartbeats later than LAG_THRESHOLD.",
)

# The request id of the request being served. Set by the middleware; work
# that runs elsewhere sees it only if the context is carried there. It lives
# in workload so that pool processes need not import this module.
request_id = workload.request_id

app = FastAPI()
pool = None  # the executor, created at startup


# --- request id and worker pid on every response -----------------------------

class RequestIdMiddleware:
    """Plain ASGI middleware: sets request_id, adds the echo headers."""

    def __init__(self, app):
        self.app = app
        self.pid = str(os.getpid()).encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        rid = dict(scope["headers"]).get(b"x-request-id", b"").decode() or uuid.uuid4().hex
        token = request_id.set(rid)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + [
                    (b"x-request-id", rid.encode()), (b"x-worker-pid", self.pid)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            request_id.reset(token)


app.add_middleware(RequestIdMiddleware)


# --- the heartbeat (the article's monitor_event_loop) ---------------------------

class Heartbeat:
    """Measures how late `await asyncio.sleep(interval)` returns.

    The task records every lag in LOOP_LAG. A watchdog thread dumps every
    thread's stack (sys._current_frames()) while the loop is stuck past the
    threshold: only another thread can see what the frozen loop is running.
    """

    def __init__(self, interval, threshold):
        self.interval = interval
        self.threshold = threshold
        self.last_beat = time.monotonic()
        self.stop = threading.Event()
        self.task = None

    def start(self):
        self.last_beat = time.monotonic()
        self.task = asyncio.get_running_loop().create_task(self.beat())
        threading.Thread(target=self.watch, name="loop-watchdog", daemon=True).start()

    async def beat(self):
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(self.interval)
            lag = max(0.0, loop.time() - start - self.interval)
            self.last_beat = time.monotonic()
            LOOP_LAG.observe(lag)
            if lag > self.threshold:
                LOOP_STALLS.inc()
                log.warning("event loop blocked for %.3f s (pid %d)", lag, os.getpid())

    def watch(self):
        dumped = False
        while not self.stop.wait(self.interval):
            late = time.monotonic() - self.last_beat - self.interval
            if late <= self.threshold:
                dumped = False
            elif not dumped:
                dumped = True
                stacks = "".join(
                    f"\nthread {tid}:\n" + "".join(traceback.format_stack(frame))
                    for tid, frame in sys._current_frames().items())
                log.warning("event loop stuck for %.3f s so far; stacks:%s", late, stacks)

    async def close(self):
        self.stop.set()
        if self.task:
            self.task.cancel()


heartbeat = Heartbeat(LAG_INTERVAL, LAG_THRESHOLD)


def parse_heavy(spec):
    """Parse HEAVY ("cpu:100") into the work function and its argument."""
    kind, _, arg = spec.partition(":")
    funcs = {"cpu": (CPU_FUNC, 0, workload.MAX_MILLIS),
             "block": (workload.block, 0, workload.MAX_MILLIS),
             "regex": (workload.validate, 1, workload.MAX_REGEX_KIB)}
    if kind not in funcs or not arg.isdigit() or not funcs[kind][1] <= int(arg) <= funcs[kind][2]:
        raise SystemExit(f"HEAVY={spec!r}: want cpu:MS, block:MS or regex:KB")
    return funcs[kind][0], int(arg)


HEAVY_FUNC, HEAVY_ARG = parse_heavy(HEAVY)


# FastAPI 0.92 has no lifespan= parameter; startup and shutdown handlers are
# its lifespan.
@app.on_event("startup")
async def startup():
    global pool
    # /heavy's regex document is generated before serving, where it will be used.
    kib = HEAVY_ARG if HEAVY_FUNC is workload.validate else 0
    if OFFLOAD == "threads":
        pool = ThreadPoolExecutor(max_workers=POOL_WORKERS, thread_name_prefix="offload")
    elif OFFLOAD == "processes":
        # spawn, not fork: forking a process that runs threads is unsafe.
        # A pool process exits with the app, even when the app is killed.
        pool = ProcessPoolExecutor(max_workers=POOL_WORKERS, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=workload.exit_with_parent)
        # Start every child now, so no request pays for an interpreter start.
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(pool, workload.warm, 50, kib) for _ in range(POOL_WORKERS)))
    if kib and OFFLOAD != "processes":
        workload.prepare(kib)
    heartbeat.start()
    log.info("fastapi_app ready: pid %d, OFFLOAD=%s, POOL_WORKERS=%d, HEAVY=%s, LOSE_CONTEXT=%s",
             os.getpid(), OFFLOAD, POOL_WORKERS, HEAVY, LOSE_CONTEXT)


@app.on_event("shutdown")
async def shutdown():
    await heartbeat.close()
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


# --- running heavy work where OFFLOAD says --------------------------------------

def execute_in_thread(func, *args):
    """The source article's wrapper, verbatim: wrong, see run_heavy."""
    ctx = contextvars.copy_context()
    return ctx.run(func, *args)


async def run_heavy(fn, *args):
    """Run fn(*args) per OFFLOAD; return (where, request id seen there, result)."""
    if OFFLOAD == "none":
        return ("loop",) + workload.seen_id_and_call(fn, *args)  # blocks every request on this worker
    loop = asyncio.get_running_loop()
    if OFFLOAD == "threads":
        if LOSE_CONTEXT == "article":
            # The article's wrapper copies the context inside the pool thread,
            # where the request's context is not: the id is lost all the same.
            return ("thread",) + await loop.run_in_executor(pool, execute_in_thread, workload.seen_id_and_call, fn, *args)
        if LOSE_CONTEXT:
            # Executor threads do not inherit the caller's context: the id is lost.
            return ("thread",) + await loop.run_in_executor(pool, workload.seen_id_and_call, fn, *args)
        ctx = contextvars.copy_context()  # copied here, on the loop, and run there
        return ("thread",) + await loop.run_in_executor(pool, ctx.run, workload.seen_id_and_call, fn, *args)
    if LOSE_CONTEXT:
        return ("process",) + await loop.run_in_executor(pool, workload.seen_id_and_call, fn, *args)
    return ("process",) + await loop.run_in_executor(pool, workload.call_with_request_id, request_id.get(), fn, *args)


def heavy_response(where, work_id, body):
    return JSONResponse(body, headers={"X-Work-Request-Id": work_id, "X-Worked-In": where})


@app.exception_handler(workload.ParamError)
async def bad_param(request: Request, err: workload.ParamError):
    return PlainTextResponse(str(err) + "\n", status_code=400)


# Every endpoint is `async def`: FastAPI would run a plain `def` endpoint in
# its own thread pool, which would hide the bug this app reproduces.

@app.get("/light")
async def light():
    return PlainTextResponse("ok\n")


@app.get("/healthz")
async def healthz():
    return PlainTextResponse("ok\n")


@app.get("/metrics")
async def metrics():
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@app.get("/cpu")
async def cpu(request: Request):
    ms = workload.int_param(request.query_params, "ms", 0, workload.MAX_MILLIS)
    where, work_id, _ = await run_heavy(CPU_FUNC, ms)
    return heavy_response(where, work_id, {"ms": ms})


@app.get("/block")
async def block(request: Request):
    ms = workload.int_param(request.query_params, "ms", 0, workload.MAX_MILLIS)
    where, work_id, _ = await run_heavy(workload.block, ms)
    return heavy_response(where, work_id, {"ms": ms})


@app.get("/heavy")
async def heavy():
    where, work_id, _ = await run_heavy(HEAVY_FUNC, HEAVY_ARG)
    return heavy_response(where, work_id, {"heavy": HEAVY})


@app.get("/regex")
async def regex(request: Request):
    kb = workload.int_param(request.query_params, "kb", 1, workload.MAX_REGEX_KIB)
    where, work_id, (records, checks, flagged) = await run_heavy(workload.validate, kb)
    return heavy_response(where, work_id, {"kb": kb, "records": records, "checks": checks, "flagged": flagged})
