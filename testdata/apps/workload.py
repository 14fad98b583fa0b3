"""The work behind the test apps' routes, shared by flask_app and fastapi_app.

Everything here is plain synchronous Python, so it behaves like real
application code: burn_cpu and validate hold the GIL while they run,
burn_cpu_released works with it released (NumPy-style), block
sleeps without CPU, and Leaker keeps memory that really is resident.
The functions are module-level so a ProcessPoolExecutor can pickle them.
"""

import contextvars
import hashlib
import json
import os
import re
import threading
import time

# Bounds on request parameters, the same as the built-in server's, so that
# one request cannot take a worker down. Out of range is a 400.
MAX_MILLIS = 60_000
MAX_REGEX_KIB = 16 << 10
MAX_LEAK_BYTES = 1 << 30

PAGE = os.sysconf("SC_PAGE_SIZE")


class ParamError(ValueError):
    """A bad or out-of-range query parameter; apps answer it with 400."""


def int_param(args, name, lo, hi):
    """Return query parameter name of the mapping args as an int in [lo, hi]."""
    raw = args.get(name)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ParamError(f"bad query parameter {name}={raw!r}: want an integer in [{lo}, {hi}] (required)") from None
    if not lo <= value <= hi:
        raise ParamError(f"bad query parameter {name}={raw!r}: want an integer in [{lo}, {hi}]")
    return value


_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1 << 10, "m": 1000**2, "mb": 1000**2,
          "mib": 1 << 20, "g": 1000**3, "gb": 1000**3, "gib": 1 << 30}


def parse_size(text):
    """Parse a byte size such as "1048576", "256KiB" or "1MiB" ("" is 0)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text or "0")
    if not m or m.group(2).lower() not in _UNITS:
        raise ValueError(f"bad size {text!r}: want bytes, optionally with a unit such as KiB or MiB")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def burn_cpu(ms):
    """Do pure-Python CPU work until this thread has used ms of CPU time.

    CPU time, not wall time: the work is a fixed amount, so when other
    threads hold the GIL it takes longer, as real code does.
    """
    deadline = time.thread_time() + ms / 1000
    x = 0
    while time.thread_time() < deadline:
        for i in range(2000):
            x = (x * 31 + i) % 1_000_003
    return x


_RELEASED_CHUNK = bytes(256 << 10)


def burn_cpu_released(ms):
    """Do ms of CPU time of work that releases the GIL, as NumPy does.

    hashlib hashes a buffer over 2 KiB with the GIL released, so between
    its calls (~0.15 ms each) the thread holds the GIL only for a moment:
    other threads run Python meanwhile, the loop's among them.
    """
    deadline = time.thread_time() + ms / 1000
    h = hashlib.sha256()
    while time.thread_time() < deadline:
        h.update(_RELEASED_CHUNK)
    return h.digest()[0]


def block(ms):
    """Wait ms without CPU, like a synchronous call to a slow service."""
    time.sleep(ms / 1000)


def document(kib):
    """Return a deterministic JSON array of records about kib KiB long."""
    target = kib << 10
    parts, size, i = [], 2, 0
    while size < target:
        rec = {
            "id": f"{i * 2654435761 % (1 << 32):08x}-{i % 65536:04x}-4{i % 4096:03x}-a{i * 7 % 4096:03x}-{i * 11:012x}",
            "email": f"user{i}@example{i % 97}.com",
            "url": f"https://api.example.com/v1/items/{i}?expand=owner&page={i % 13}",
            "phone": f"+81-{i % 90 + 10:02d}-{i % 10000:04d}-{i * 37 % 10000:04d}",
            "date": f"20{i % 30:02d}-{i % 12 + 1:02d}-{i % 28 + 1:02d}T{i % 24:02d}:{i % 60:02d}:{i * 7 % 60:02d}Z",
            "name": f"Name {i} Surname",
            "comment": "lorem ipsum dolor sit amet " * (1 + i % 4),
        }
        enc = json.dumps(rec)
        parts.append(enc)
        size += len(enc) + 1
        i += 1
    return "[" + ",".join(parts) + "]"


# The validation rules of the article's culprit: several patterns per field,
# some unanchored. (True, p) must match; (False, p) must not.
RULES = {
    "id": [(True, r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"),
           (True, r"(?i)^[0-9a-f-]+$")],
    "email": [(True, r"^[a-zA-Z0-9._%+\-]+@[a-zA-Z0-9.\-]+\.[a-zA-Z]{2,}$"),
              (False, r"(?i)(\.\.|@\.|\.@)"),
              (True, r"^.{3,254}$")],
    "url": [(True, r"^https?://[\w.\-]+(:\d+)?(/[\w.\-~%]*)*(\?([\w.\-~%]+=[\w.\-~%]*&?)*)?$"),
            (False, r"(?i)(javascript:|data:|<script)"),
            (False, r"[\s\"'<>]")],
    "phone": [(True, r"^\+?\d{1,3}[\- ]?\d{1,4}[\- ]?\d{3,4}[\- ]?\d{4}$")],
    "date": [(True, r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\dZ$")],
    "name": [(True, r"^[^\W_][\w .'\-]{0,99}$"),
             (False, r"(?i)(select|insert|drop|union)\s")],
    "comment": [(False, r"(?i)(<script|onerror=|onload=|javascript:)"),
                (False, r"(?i)\b(viagra|casino|lottery)\b"),
                (True, r"^[\w\s.,;:!?'\"()\-]*$"),
                (True, r"(\w+)\s+\w+\s+\w+\s+\w+")],
}
_COMPILED = {field: [(must, re.compile(p)) for must, p in rules] for field, rules in RULES.items()}

# Generated documents by size, so a request pays for validation, not generation.
_documents = {}


def prepare(kib):
    """Generate and keep the kib KiB document, so no request pays for it."""
    if kib not in _documents:
        _documents[kib] = document(kib)


def exit_with_parent():
    """Pool initializer: exit when the process that started the pool dies.

    A ProcessPoolExecutor's processes wait on a queue that they hold open
    themselves, so if the app is killed (SIGKILL, or its harness dying)
    they would wait forever. A daemon thread checks the parent, as
    gunicorn's workers do.
    """
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def warm(ms, kib=0):
    """Pool start-up work: wait ms (so that every pool process gets a call)
    and prepare the kib KiB document when kib > 0."""
    block(ms)
    if kib:
        prepare(kib)


def validate(kib):
    """Parse a kib KiB JSON document and check every field with re.

    Returns (records, checks, flagged). The document is generated once per
    size and process; its parsing and validation are what each call costs.
    """
    prepare(kib)
    records = json.loads(_documents[kib])
    checks = flagged = 0
    for rec in records:
        for field, rules in _COMPILED.items():
            value = rec[field]
            for must, rx in rules:
                checks += 1
                if (rx.search(value) is not None) != must:
                    flagged += 1
    return len(records), checks, flagged


class Leaker:
    """Retains memory on purpose, like a cache that is never evicted.

    Every page of each allocation is written, so the process's RSS really
    grows by about the leaked size.
    """

    def __init__(self):
        self.chunks = []
        self.total = 0

    def leak(self, n):
        if n <= 0:
            return
        chunk = bytearray(n)
        chunk[::PAGE] = b"\x01" * len(range(0, n, PAGE))
        chunk[-1] = 1
        self.chunks.append(chunk)
        self.total += n


# The request id of the request being served, for apps that carry it into
# offloaded work. Kept here, with the work, so that a pool process can
# unpickle the functions below without importing the web app.
request_id = contextvars.ContextVar("request_id", default="")


def seen_id_and_call(fn, *args):
    """Run fn where we are; return the request id visible here and fn's result."""
    return request_id.get(), fn(*args)


def call_with_request_id(rid, fn, *args):
    """In a pool process: a contextvar cannot cross the pipe, so the id comes
    as an argument (pickled) and is set in a fresh context for this call."""
    def run():
        request_id.set(rid)
        return seen_id_and_call(fn, *args)
    return contextvars.Context().run(run)
