#!/usr/bin/env bash
# How often each of the event loop's GIL release points loses the GIL to a
# CPU-bound thread, on real uvicorn (server/loop's releaseLoss, cpython.go).
#
# Usage: bench/loop/gil_release.sh SAWTOOTH_BINARY [RUNS]
#
# Starts uvicorn with bench/loop/gilprobe.py (fastapi_app with its loop's
# calls timed; OFFLOAD=threads, POOL_WORKERS=2) on a free port, then RUNS
# times each: one request at a time (lone_request.py) and the shipped offload
# scenario's traffic at it (13 s at 100 req/s), printing per kind of call how
# many were made during a /cpu, how many lost the GIL and what those cost.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:?usage: $0 SAWTOOTH_BINARY [RUNS]}
runs=${2:-3}
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
tmp=$(mktemp -d)
OFFLOAD=threads POOL_WORKERS=2 LAG_INTERVAL=0.01 PYTHONPATH=bench/loop setsid \
	/usr/bin/uvicorn --host 127.0.0.1 --port "$port" --no-access-log --app-dir testdata/apps gilprobe:app \
	>"$tmp/uvicorn.log" 2>&1 &
uv=$!
trap 'kill -- -$uv 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do curl -fs "127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done

# The offload scenario's traffic and phases, at the probe's url.
sed -n '/^traffic:/,/^matrix:/p' scenarios/shipped/offload.yaml | sed '$d' >"$tmp/traffic.yaml"
{
	printf 'name: gil-release\ntarget:\n  url:\n    base_url: http://127.0.0.1:%s\n    ready:\n      url: /healthz\n\n' "$port"
	cat "$tmp/traffic.yaml"
} >"$tmp/scenario.yaml"

show() {
	curl -fs "127.0.0.1:$port/gilprobe" | /usr/bin/python3 -c '
import json, sys
for kind, (n, lost, ms) in sorted(json.load(sys.stdin).items()):
    print("  %-12s %5d calls, %4d lost (%3.0f%%), %5.2f ms per loss" % (kind, n, lost, 100 * lost / max(n, 1), ms / max(lost, 1)))'
}
for i in $(seq "$runs"); do
	curl -fs "127.0.0.1:$port/gilprobe" >/dev/null
	echo "run $i, one request at a time: $(/usr/bin/python3 bench/loop/lone_request.py "$port")"
	show
	"$bin" run --ci --out "$tmp/runs" "$tmp/scenario.yaml" >"$tmp/run.log" 2>&1 || { cat "$tmp/run.log"; exit 1; }
	echo "run $i, the offload scenario's traffic (load average $(cut -d' ' -f1-3 /proc/loadavg)):"
	show
done
