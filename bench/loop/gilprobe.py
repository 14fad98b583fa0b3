"""testdata/apps/fastapi_app.py with the event loop's GIL release points timed.

Each blocking call the loop thread makes (the selector's select, and the
transports' socket recv and send) is timed with perf_counter. The call itself
takes microseconds; one that took over LOST seconds lost the GIL to another
thread and got it back only by a forced switch (a switch interval, 5 ms).
Only calls made while a /cpu runs in the pool are counted, so the counts are
the loss odds of each kind of call under a CPU-bound thread (server/loop's
releaseLoss, cpython.go).

Run by bench/loop/gil_release.sh. GET /gilprobe returns the counts since the
last GET /gilprobe, as {kind: [calls, lost, ms spent in the lost ones]},
kind one of send, recv, poll0 (epoll_wait with timeout 0), polltimeout (a
poll that blocked until its timeout; its time is how late it returned).
"""

import asyncio
import asyncio.selector_events
import collections
import threading
import time

import fastapi_app
import workload
from fastapi_app import app

LOST = 0.003
calls = collections.defaultdict(lambda: [0, 0, 0.0])
loop_thread = [None]
cpu_running = [0]

_burn_cpu = workload.burn_cpu


def burn_cpu(*args, **kwargs):
    """workload.burn_cpu, counted while it runs (/cpu looks it up per request)."""
    cpu_running[0] += 1
    try:
        return _burn_cpu(*args, **kwargs)
    finally:
        cpu_running[0] -= 1


workload.burn_cpu = burn_cpu


def record(kind, seconds, during_cpu):
    if threading.get_ident() != loop_thread[0] or not during_cpu:
        return
    c = calls[kind]
    c[0] += 1
    if seconds > LOST:
        c[1] += 1
        c[2] += seconds * 1e3


class TimedSocket:
    """A socket whose recv and send are timed; everything else passes through."""

    def __init__(self, sock):
        object.__setattr__(self, "_sock", sock)

    def __getattr__(self, name):
        return getattr(self._sock, name)

    def recv(self, *args):
        t, on = time.perf_counter(), cpu_running[0] > 0
        try:
            return self._sock.recv(*args)
        finally:
            record("recv", time.perf_counter() - t, on)

    def send(self, *args):
        t, on = time.perf_counter(), cpu_running[0] > 0
        try:
            return self._sock.send(*args)
        finally:
            record("send", time.perf_counter() - t, on)


_transport_init = asyncio.selector_events._SelectorSocketTransport.__init__


def transport_init(self, loop, sock, *args, **kwargs):
    _transport_init(self, loop, sock, *args, **kwargs)
    self._sock = TimedSocket(self._sock)


asyncio.selector_events._SelectorSocketTransport.__init__ = transport_init


@app.on_event("startup")
async def time_the_loop():
    loop_thread[0] = threading.get_ident()
    loop = asyncio.get_running_loop()
    loop._ssock = TimedSocket(loop._ssock)  # the self-pipe's reads
    select = loop._selector.select

    def timed_select(timeout=None):
        t, on = time.perf_counter(), cpu_running[0] > 0
        events = select(timeout)
        took = time.perf_counter() - t
        if timeout == 0:
            record("poll0", took, on)
        elif timeout is not None and not events:
            record("polltimeout", took - timeout, on)
        return events

    loop._selector.select = timed_select


@app.get("/gilprobe")
def counts():
    out = {k: v[:] for k, v in calls.items()}
    calls.clear()
    return out
