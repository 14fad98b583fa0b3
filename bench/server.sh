#!/usr/bin/env bash
# bench/server.sh: the recycling server's benchmark (issue 2).
#
#  1. /light throughput with wrk, as ratios: sawtooth serve with 2 workers
#     (sync and threads) against a plain net/http server in one process and
#     against gunicorn 20.1 with 2 sync workers and with 2x4 gthread workers;
#     plus both sync servers with --max-requests 100 --max-requests-jitter 20,
#     i.e. how many req/s each can still serve while it recycles.
#  2. The price of recycling: p99 at a constant rate (vegeta) for each of
#     RATES with --max-requests 100 --max-requests-jitter 20, with and
#     without --overlap, against no recycling, next to gunicorn sync with the
#     same flags.
#  3. Keep-alive recycling (issue 10): errors per recycle under wrk
#     -t1 -c$KCONNS -d$KDUR /light (keep-alive, never retries) with
#     --workers 2 --max-requests 50 --max-requests-jitter 10, for each
#     sawtooth model with and without --overlap, next to gunicorn gthread 4
#     and sync with the same flags. A recycle is a worker boot past the
#     first two (both servers log them).
#
# Every figure is the median of REPEAT runs on a fresh server each, with the
# 1-minute load average at each run beside it (the machine may be shared).
#
# Client settings, identical for every server:
#   throughput: wrk -t$THREADS -c$CONNS -d$DUR (closed loop)
#   recycling:  vegeta attack -rate=R -duration=$RDUR -timeout=10s (open loop,
#               Go client with its default keep-alive; both sync servers answer
#               "Connection: close", so every request is a new TCP connection
#               either way: -keepalive=false measured the same). A request with
#               no answer after 10 s counts as an error.
# Open loop means the rate does not slow down when the server does: a server
# whose throughput while recycling (part 1) is below R queues without bound,
# and its p99 becomes the client timeout. gunicorn 20.1 did that at 1,000
# req/s on 2 loaded cores, not on a quiet machine (see BENCHMARKS.md: a
# retiring worker runs a full Python interpreter teardown before the arbiter
# reaps it and forks the replacement).
#
# Usage: bench/server.sh            (about 8 minutes)
#        PARTS=recycling RATES="200 500 1000" REPEAT=1 bench/server.sh
# Knobs: PARTS="throughput recycling keepalive" DUR=8s CONNS=32 THREADS=2
#        RATES=1000 RDUR=8s KDUR=5s KCONNS=8 REPEAT=3 OUT=dir
# Needs: go, /usr/bin/wrk, /usr/bin/gunicorn, python3 (Debian: apt-get install -y wrk gunicorn).
# Everything listens on 127.0.0.1 free ports; every server runs in its own
# process group and is killed with it on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

DUR=${DUR:-8s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
RATES=${RATES:-${RATE:-1000}}
PARTS=${PARTS:-throughput recycling keepalive}
KDUR=${KDUR:-5s}
KCONNS=${KCONNS:-8}
RDUR=${RDUR:-8s}
REPEAT=${REPEAT:-3}
OUT=${OUT:-$(mktemp -d -t sawtooth-bench.XXXXXX)}
mkdir -p "$OUT/logs"
for tool in /usr/bin/wrk /usr/bin/gunicorn; do
	[[ -x $tool ]] || { echo "bench/server.sh: $tool missing (apt-get install -y wrk gunicorn)" >&2; exit 2; }
done

echo "building into $OUT ..." >&2
go build -o "$OUT/sawtooth" ./cmd/sawtooth
go build -o "$OUT/vegeta" github.com/tsenart/vegeta/v12
mkdir -p "$OUT/plain"
cat > "$OUT/plain/main.go" <<'GO'
// A plain net/http server in one process, answering /light as sawtooth's workers do.
package main

import (
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
)

func main() {
	var n atomic.Int64
	pid := strconv.Itoa(os.Getpid())
	http.HandleFunc("/light", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Worker-Pid", pid)
		h.Set("X-Worker-Requests", strconv.FormatInt(n.Add(1), 10))
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Content-Length", "6")
		w.Write([]byte("light\n"))
	})
	panic(http.ListenAndServe(os.Args[1], nil))
}
GO
(cd "$OUT/plain" && GO111MODULE=off go build -o "$OUT/plainhttp" main.go)

# Job control: every background job gets its own process group.
set -m
PGIDS=()
cleanup() {
	for g in "${PGIDS[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The servers; each reads $PORT when it runs and execs, so the job's
# process group is the server's.
plainsrv() { exec "$OUT/plainhttp" "127.0.0.1:$PORT"; }
saw() { exec "$OUT/sawtooth" serve --bind "127.0.0.1:$PORT" --admin-bind off --workers 2 "$@"; }
guni() { exec /usr/bin/gunicorn --chdir testdata/apps --bind "127.0.0.1:$PORT" --workers 2 --log-level warning "$@" wsgi_hello:app; }
# gunicorn logging its worker boots (part 3 counts them).
guninfo() { exec /usr/bin/gunicorn --chdir testdata/apps --bind "127.0.0.1:$PORT" --workers 2 --log-level info "$@" wsgi_hello:app; }

# load1: the 1-minute load average now.
load1() { cut -d' ' -f1 /proc/loadavg; }
# median: the median of its arguments.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# start NAME FUNC ARGS...: picks a free PORT, starts the server, waits for /light.
start() {
	local name=$1; shift
	PORT=$(freeport)
	"$@" >"$OUT/logs/$name.log" 2>&1 &
	CUR=$!
	PGIDS+=("$CUR")
	for _ in $(seq 200); do
		curl -fsS -o /dev/null "http://127.0.0.1:$PORT/light" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "bench/server.sh: $name did not come up; log:" >&2
	cat "$OUT/logs/$name.log" >&2
	exit 1
}
stop() {
	kill -TERM "$CUR" 2>/dev/null || true # the master (or gunicorn arbiter) shuts its workers down
	for _ in $(seq 100); do kill -0 -- "-$CUR" 2>/dev/null || { wait "$CUR" 2>/dev/null || true; return 0; }; sleep 0.1; done
	kill -KILL -- "-$CUR" 2>/dev/null || true
	wait "$CUR" 2>/dev/null || true
}

# wrkerrors FILE: "req/s errors" from wrk's output (socket errors of every
# kind plus non-2xx responses).
wrkerrors() {
	python3 - "$1" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
err = 0
m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
if m: err += sum(int(x) for x in m.groups())
m = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
if m: err += int(m.group(1))
print(f"{rps:.0f} {err}")
PY
}

# throughput NAME FUNC ARGS...: requests/s and errors under wrk, REPEAT
# times on a fresh server each; the median req/s, the total errors and the
# load averages are kept under NAME.
declare -A RPS ERR P99 RERR LOADS EPR KDETAIL
throughput() {
	local name=$1; shift
	local rpss=() errs=0 loads=() r e
	for i in $(seq "$REPEAT"); do
		start "$name" "$@"
		loads+=("$(load1)")
		uptime >>"$OUT/logs/uptime.txt"
		/usr/bin/wrk -t"$THREADS" -c"$CONNS" -d"$DUR" "http://127.0.0.1:$PORT/light" >"$OUT/logs/wrk-$name-$i.txt" 2>&1
		stop
		read -r r e < <(wrkerrors "$OUT/logs/wrk-$name-$i.txt")
		rpss+=("$r")
		errs=$((errs + e))
	done
	RPS[$name]=$(median "${rpss[@]}")
	ERR[$name]=$errs
	LOADS[$name]=${loads[*]}
	echo "  $name: ${rpss[*]} req/s (median ${RPS[$name]}), $errs errors, load ${loads[*]}" >&2
}

# constant RATE NAME FUNC ARGS...: p99 and errors at RATE req/s for RDUR
# under vegeta, REPEAT times on a fresh server each; the median p99 and the
# total errors are kept under NAME@RATE (a shared machine makes single runs
# noisy).
constant() {
	local rate=$1 name=$2@$1; shift 2
	local p99s=() errs=0 loads=() p e
	for i in $(seq "$REPEAT"); do
		start "$name" "$@"
		loads+=("$(load1)")
		uptime >>"$OUT/logs/uptime.txt"
		echo "GET http://127.0.0.1:$PORT/light" | "$OUT/vegeta" attack -rate="$rate" -duration="$RDUR" -timeout=10s >"$OUT/logs/vegeta-$name-$i.bin"
		stop
		"$OUT/vegeta" report -type=json <"$OUT/logs/vegeta-$name-$i.bin" >"$OUT/logs/vegeta-$name-$i.json"
		read -r p e < <(python3 - "$OUT/logs/vegeta-$name-$i.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ok = r["status_codes"].get("200", 0)
print(f'{r["latencies"]["99th"]/1e6:.2f} {r["requests"] - ok}')
PY
)
		p99s+=("$p")
		errs=$((errs + e))
	done
	P99[$name]=$(median "${p99s[@]}")
	RERR[$name]=$errs
	LOADS[$name]=${loads[*]}
	echo "  $name: p99 ${p99s[*]} ms (median ${P99[$name]}), $errs errors, load ${loads[*]}" >&2
}

# keepalive NAME FUNC ARGS...: errors per recycle under wrk -c$KCONNS with
# keep-alive, REPEAT times on a fresh server each; the median is kept
# under NAME, and every run's "errors/recycles" in KDETAIL.
keepalive() {
	local name=$1; shift
	local eprs=() detail=() loads=() r e boots
	for i in $(seq "$REPEAT"); do
		start "ka-$name-$i" "$@"
		loads+=("$(load1)")
		uptime >>"$OUT/logs/uptime.txt"
		/usr/bin/wrk -t1 -c"$KCONNS" -d"$KDUR" "http://127.0.0.1:$PORT/light" >"$OUT/logs/wrk-ka-$name-$i.txt" 2>&1
		stop
		read -r r e < <(wrkerrors "$OUT/logs/wrk-ka-$name-$i.txt")
		boots=$(grep -ci 'booting worker with pid' "$OUT/logs/ka-$name-$i.log" || true)
		boots=$((boots > 2 ? boots - 2 : 0))
		eprs+=("$(python3 -c "import sys; e,b=int(sys.argv[1]),int(sys.argv[2]); print(f'{e/b:.2f}' if b else 'nan')" "$e" "$boots")")
		detail+=("$e/$boots")
	done
	EPR[$name]=$(median "${eprs[@]}")
	KDETAIL[$name]=${detail[*]}
	LOADS[ka-$name]=${loads[*]}
	echo "  $name: errors/recycles ${detail[*]} (median ${EPR[$name]} per recycle), load ${loads[*]}" >&2
}

REC=(--max-requests 100 --max-requests-jitter 20)
if [[ " $PARTS " == *" throughput "* ]]; then
	echo "throughput: wrk -t$THREADS -c$CONNS -d$DUR /light" >&2
	throughput plain plainsrv
	throughput saw-sync saw --worker-model sync
	throughput saw-threads saw --worker-model threads --threads 4
	throughput gunicorn-sync guni --worker-class sync
	throughput gunicorn-gthread guni --worker-class gthread --threads 4
	throughput saw-sync-recycle saw --worker-model sync "${REC[@]}"
	throughput gunicorn-sync-recycle guni --worker-class sync "${REC[@]}"
fi

KA=(--max-requests 50 --max-requests-jitter 10)
if [[ " $PARTS " == *" keepalive "* ]]; then
	echo "keep-alive recycling: wrk -t1 -c$KCONNS -d$KDUR /light, 2 workers, ${KA[*]}" >&2
	keepalive saw-sync saw --worker-model sync "${KA[@]}"
	keepalive saw-sync-overlap saw --worker-model sync "${KA[@]}" --overlap
	keepalive saw-threads saw --worker-model threads --threads 4 "${KA[@]}"
	keepalive saw-threads-overlap saw --worker-model threads --threads 4 "${KA[@]}" --overlap
	keepalive saw-loop saw --worker-model loop "${KA[@]}"
	keepalive saw-loop-overlap saw --worker-model loop "${KA[@]}" --overlap
	keepalive gunicorn-gthread guninfo --worker-class gthread --threads 4 "${KA[@]}"
	keepalive gunicorn-sync guninfo --worker-class sync "${KA[@]}"
fi

if [[ " $PARTS " == *" recycling "* ]]; then
	for rate in $RATES; do
		echo "price of recycling: vegeta attack -rate=$rate -duration=$RDUR -timeout=10s /light" >&2
		constant "$rate" saw-none saw --worker-model sync
		constant "$rate" saw-recycle saw --worker-model sync "${REC[@]}"
		constant "$rate" saw-overlap saw --worker-model sync "${REC[@]}" --overlap
		constant "$rate" gunicorn-none guni --worker-class sync
		constant "$rate" gunicorn-recycle guni --worker-class sync "${REC[@]}"
	done
fi

ratio() { python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'{a/b:.2f}x' if b else 'n/a')" "$1" "$2"; }
{
	if [[ " $PARTS " == *" throughput "* ]]; then
		echo "## sawtooth serve: /light throughput (wrk -t$THREADS -c$CONNS -d$DUR, $(nproc) cores)"
		echo
		echo "median of $REPEAT runs; errors summed over them; load = 1-minute load average at each run"
		echo
		echo "| server | req/s | errors | vs net/http | vs gunicorn gthread 2x4 | load |"
		echo "|---|---:|---:|---:|---:|---|"
		for n in plain saw-sync saw-threads gunicorn-sync gunicorn-gthread; do
			echo "| $n | ${RPS[$n]} | ${ERR[$n]} | $(ratio "${RPS[$n]}" "${RPS[plain]}") | $(ratio "${RPS[$n]}" "${RPS[gunicorn-gthread]}") | ${LOADS[$n]} |"
		done
		echo
		echo "## throughput while recycling (same wrk settings), 2 sync workers, ${REC[*]}"
		echo
		echo "| server | req/s | errors | vs same server without recycling | load |"
		echo "|---|---:|---:|---:|---|"
		echo "| saw-sync-recycle | ${RPS[saw-sync-recycle]} | ${ERR[saw-sync-recycle]} | $(ratio "${RPS[saw-sync-recycle]}" "${RPS[saw-sync]}") | ${LOADS[saw-sync-recycle]} |"
		echo "| gunicorn-sync-recycle | ${RPS[gunicorn-sync-recycle]} | ${ERR[gunicorn-sync-recycle]} | $(ratio "${RPS[gunicorn-sync-recycle]}" "${RPS[gunicorn-sync]}") | ${LOADS[gunicorn-sync-recycle]} |"
		echo
	fi
	if [[ " $PARTS " == *" recycling "* ]]; then
		echo "## price of recycling: median p99 of $REPEAT runs for $RDUR (vegeta -timeout=10s), 2 sync workers, ${REC[*]}"
		echo
		echo "| server | rate req/s | p99 ms | errors (all runs) | p99 vs no recycling | load |"
		echo "|---|---:|---:|---:|---:|---|"
		for rate in $RATES; do
			for n in saw-none saw-recycle saw-overlap; do
				echo "| $n | $rate | ${P99[$n@$rate]} | ${RERR[$n@$rate]} | $(ratio "${P99[$n@$rate]}" "${P99[saw-none@$rate]}") | ${LOADS[$n@$rate]} |"
			done
			for n in gunicorn-none gunicorn-recycle; do
				echo "| $n | $rate | ${P99[$n@$rate]} | ${RERR[$n@$rate]} | $(ratio "${P99[$n@$rate]}" "${P99[gunicorn-none@$rate]}") | ${LOADS[$n@$rate]} |"
			done
		done
		echo
		echo "load average at each vegeta run: $OUT/logs/uptime.txt"
		echo
	fi
	if [[ " $PARTS " == *" keepalive "* ]]; then
		echo "## keep-alive recycling: errors per recycle (wrk -t1 -c$KCONNS -d$KDUR /light, never retries), 2 workers, ${KA[*]}"
		echo
		echo "median of $REPEAT runs; each run's errors/recycles; load = 1-minute load average at each run"
		echo
		echo "| server | errors per recycle | errors/recycles per run | load |"
		echo "|---|---:|---|---|"
		for n in saw-sync saw-sync-overlap saw-threads saw-threads-overlap saw-loop saw-loop-overlap gunicorn-gthread gunicorn-sync; do
			echo "| $n | ${EPR[$n]} | ${KDETAIL[$n]} | ${LOADS[ka-$n]} |"
		done
		echo
	fi
} | tee "$OUT/results.md"
echo "logs and raw results in $OUT" >&2
