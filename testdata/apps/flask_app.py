"""A Flask app whose gunicorn workers slowly grow, like the first source article's.

Run it from this folder with gunicorn (sync or gthread workers):

    LEAK_PER_REQUEST=256KiB /usr/bin/gunicorn --bind 127.0.0.1:8000 --workers 2 \
        --max-requests 500 --max-requests-jitter 50 flask_app:app

Routes (all GET):
    /light           a tiny response
    /cpu?ms=N        N ms of pure-Python CPU work
    /regex?kb=N      Python re over a generated N KiB JSON document (the
                     second article's culprit)
    /leak?bytes=N    retain N bytes for the life of the worker, every page touched
    /healthz         200 "ok"; never leaks

LEAK_PER_REQUEST (bytes, e.g. "1048576" or "1MiB") leaks that much on every
request except /healthz. Every response carries X-Worker-Pid (the worker
that served it), X-Worker-Requests (how many it has served, this one
included) and X-Request-Id (the client's, or a new one).
"""

import os
import uuid

from flask import Flask, g, jsonify, request

import workload

app = Flask(__name__)

LEAK_PER_REQUEST = workload.parse_size(os.environ.get("LEAK_PER_REQUEST", "0"))

# Per worker process: without --preload each gunicorn worker imports this
# module itself after the fork, so each has its own leaker and counter.
leaker = workload.Leaker()
served = 0


@app.before_request
def before():
    global served
    served += 1
    g.request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
    if LEAK_PER_REQUEST and request.path != "/healthz":
        leaker.leak(LEAK_PER_REQUEST)


@app.after_request
def after(response):
    response.headers["X-Worker-Pid"] = str(os.getpid())
    response.headers["X-Worker-Requests"] = str(served)
    response.headers["X-Request-Id"] = g.get("request_id", "")
    return response


@app.errorhandler(workload.ParamError)
def bad_param(err):
    return str(err) + "\n", 400


@app.get("/light")
def light():
    return "ok\n"


@app.get("/healthz")
def healthz():
    return "ok\n"


@app.get("/cpu")
def cpu():
    ms = workload.int_param(request.args, "ms", 0, workload.MAX_MILLIS)
    workload.burn_cpu(ms)
    return jsonify(ms=ms)


@app.get("/regex")
def regex():
    kb = workload.int_param(request.args, "kb", 1, workload.MAX_REGEX_KIB)
    records, checks, flagged = workload.validate(kb)
    return jsonify(kb=kb, records=records, checks=checks, flagged=flagged)


@app.get("/leak")
def leak():
    n = workload.int_param(request.args, "bytes", 0, workload.MAX_LEAK_BYTES)
    leaker.leak(n)
    return jsonify(leaked=n, total=leaker.total)
