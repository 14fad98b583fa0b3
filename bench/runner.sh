#!/usr/bin/env bash
# bench/runner.sh: the harness's benchmark (issue 4).
#
#  1. Maximum request rate against a trivial loopback server (the runner's
#     test server, Go net/http), with CONNS connections for DUR each, in
#     one run: "sawtooth run" (a closed-model phase of CONNS clients),
#     "vegeta attack -rate=0 -max-workers=CONNS" (CLI built from the module
#     version in go.mod) and "wrk -c CONNS". Ratios sawtooth/vegeta and
#     sawtooth/wrk (goals: >= 1.0 and >= 0.6).
#  2. The harness's peak RSS (run.json harness.max_rss) after a 10 s and a
#     60 s run at RATE req/s: growth ratio (goal <= 1.1).
#  3. The sampler's CPU cost at 10 Hz over 20 processes (go test -bench
#     BenchmarkSample20, metric cpu-%/10Hz; goal < 1% of one core).
#
#     With REPEAT=n the three tools run n times, in turn, and the medians
#     are compared.
#
# Usage: bench/runner.sh            (about 2 minutes)
#        PARTS=1 REPEAT=3 bench/runner.sh   (part 1 only, medians of 3)
# Knobs: DUR=10s CONNS=64 REPEAT=1 RATE=1000 LONG=60s PARTS="1 2 3" OUT=dir
# Needs: go, /usr/bin/wrk, jq (Debian: apt-get install -y wrk jq).
# Traffic goes only to 127.0.0.1; the server runs in its own process group
# and is killed with it on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

DUR=${DUR:-10s}
CONNS=${CONNS:-64}
RATE=${RATE:-1000}
LONG=${LONG:-60s}
REPEAT=${REPEAT:-1}
PARTS=${PARTS:-1 2 3}
OUT=${OUT:-$(mktemp -d -t sawtooth-bench.XXXXXX)}
for tool in /usr/bin/wrk jq; do
	command -v "$tool" >/dev/null || { echo "bench/runner.sh: $tool missing (apt-get install -y wrk jq)" >&2; exit 2; }
done

echo "building into $OUT ..." >&2
go build -o "$OUT/sawtooth" ./cmd/sawtooth
go build -o "$OUT/vegeta" github.com/tsenart/vegeta/v12
go build -o "$OUT/fakeserver" ./runner/testdata/fakeserver

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port/"
setsid "$OUT/fakeserver" -port "$port" -lines 0 >"$OUT/server.log" 2>&1 &
server=$!
trap 'kill -KILL -- -$server 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -fs "$url" >/dev/null 2>&1 && break; sleep 0.1; done

# A scenario whose "target" is a placeholder process: the traffic goes to
# the shared server above, so all three tools hit the same server.
scenario() { # name phase-yaml
	cat >"$OUT/$1.yaml" <<YAML
name: $1
target:
  command:
    argv: [sleep, "3600"]
    base_url: "http://127.0.0.1:$port"
    ready: {url: "/", timeout: 10s}
    stop: {grace: 1s}
traffic:
  - {name: hello, weight: 1, path: /}
phases:
  - $2
sample:
  interval: 250ms
YAML
	echo "$OUT/$1.yaml"
}
secs() { local d=$1; case $d in *ms) echo "scale=3; ${d%ms}/1000" | bc ;; *s) echo "${d%s}" ;; *m) echo "$(( ${d%m} * 60 ))" ;; esac; }

median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }

if part 1; then
echo "== max rate, $CONNS connections, $DUR each, $REPEAT time(s)" >&2
: >"$OUT/rates.txt"
for i in $(seq "$REPEAT"); do
	"$OUT/sawtooth" run --ci --out "$OUT/runs$i" "$(scenario maxrate "{name: max, duration: $DUR, concurrency: $CONNS}")" >"$OUT/maxrate$i.out" 2>&1
	run_json=$(ls "$OUT"/runs$i/*-maxrate/default/1/run.json)
	st=$(echo "scale=1; $(jq -r '.harness.requests' "$run_json") / $(secs "$DUR")" | bc)

	"$OUT/vegeta" attack -rate=0 -max-workers="$CONNS" -workers="$CONNS" -duration="$DUR" -targets=<(echo "GET $url") >"$OUT/vegeta.bin"
	vg=$("$OUT/vegeta" report -type=json "$OUT/vegeta.bin" | jq -r '.rate')

	wrk_out=$(/usr/bin/wrk -t2 -c"$CONNS" -d"$DUR" "$url")
	wk=$(echo "$wrk_out" | awk '/Requests\/sec/ {print $2}')
	echo "$st $vg $wk" >>"$OUT/rates.txt"
	if [ "$REPEAT" -gt 1 ]; then
		printf '  run %d: sawtooth %.0f, vegeta %.0f, wrk %.0f req/s\n' "$i" "$st" "$vg" "$wk" >&2
	fi
done
st_rate=$(awk '{print $1}' "$OUT/rates.txt" | median)
vg_rate=$(awk '{print $2}' "$OUT/rates.txt" | median)
wrk_rate=$(awk '{print $3}' "$OUT/rates.txt" | median)

printf '%-28s %12s\n' "tool" "req/s"
printf '%-28s %12.0f\n' "sawtooth run" "$st_rate" "vegeta attack" "$vg_rate" "wrk" "$wrk_rate"
printf 'ratio sawtooth/vegeta %.2f (goal >= 1.0)   sawtooth/wrk %.2f (goal >= 0.6)\n' \
	"$(echo "$st_rate / $vg_rate" | bc -l)" "$(echo "$st_rate / $wrk_rate" | bc -l)"
fi

if part 2; then
echo "== harness RSS at $RATE req/s: $DUR vs $LONG" >&2
for d in "$DUR" "$LONG"; do
	name="rss$(secs "$d")"
	"$OUT/sawtooth" run --ci --out "$OUT/runs" "$(scenario "$name" "{name: steady, duration: $d, rate: $RATE}")" >"$OUT/$name.out" 2>&1
done
rss_short=$(jq -r '.harness.max_rss' "$OUT"/runs/*-rss"$(secs "$DUR")"/default/1/run.json)
rss_long=$(jq -r '.harness.max_rss' "$OUT"/runs/*-rss"$(secs "$LONG")"/default/1/run.json)
printf 'harness max RSS: %s MiB after %s, %s MiB after %s: growth %.2fx (goal <= 1.1)\n' \
	"$(echo "scale=1; $rss_short/1048576" | bc)" "$DUR" "$(echo "scale=1; $rss_long/1048576" | bc)" "$LONG" \
	"$(echo "$rss_long / $rss_short" | bc -l)"
for f in "$OUT"/runs*/*/default/1/run.json; do
	jq -r '"  \(input_filename | split("/") | .[-4]): \(.harness.requests) requests, achieved \(.harness.achieved_rate|floor) of \(.harness.requested_rate|floor) req/s, send lag p99 \(.harness.send_lag_p99*1000|.*100|floor/100) ms, cpu \(.harness.cpu_percent|floor)%, warnings \(.harness.warnings // [] | length)"' "$f"
done
fi

if part 3; then
echo "== sampler CPU at 10 Hz over 20 processes" >&2
go test -run '^$' -bench BenchmarkSample20 -benchtime 1000x ./runner/sampler | grep -E '^Benchmark'
fi
