#!/usr/bin/env bash
# bench/aa.sh: the A/A study of compare's gate (issue 12).
#
# For each of PAIRS iterations it runs the shipped "ci" scenario four times
# through the real runner (built-in server, the settings docs/ci.md
# documents: 5 repeats, compare's defaults):
#
#   A  the scenario as shipped (the baseline of all three comparisons)
#   B  the same again                          -> compare A B: a false alarm if it fails
#   L  leak_per_request x8 (64 KiB -> 512 KiB)  -> compare A L: caught if it fails
#   C  the heavy class's /cpu 30% slower (ms=20 -> ms=26)
#                                              -> compare A C: caught if it fails
#
# and records every compare's exit status, the regressions it named and
# the load average at the time in OUT/results.tsv; OUT/summary.txt has the
# rates, the metrics that caught each regression, and how many A/A pairs
# the old rule (each gated number on its own at two-sided p <= 0.10) would
# have failed. A compare that exits anything but 0 or 1 stops the study.
#
# Usage: bench/aa.sh                 (20 pairs, about 22 minutes on 2 cores)
#        PAIRS=5 bench/aa.sh         (a shorter look)
# Knobs: PAIRS=20 OUT=dir KEEP=0 (1 keeps the run directories)
#        KINDS="aa leak cpu" (KINDS=aa runs only the A/A pairs: A and B)
# Traffic goes only to 127.0.0.1 (the runner's built-in server on free
# loopback ports, in its own process group).
set -euo pipefail
cd "$(dirname "$0")/.."

PAIRS=${PAIRS:-20}
KINDS=${KINDS:-aa leak cpu}
KEEP=${KEEP:-0}
OUT=${OUT:-$(mktemp -d -t sawtooth-aa.XXXXXX)}
mkdir -p "$OUT/runs"
echo "building into $OUT ..." >&2
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit+changes"
go build -o "$OUT/sawtooth" ./cmd/sawtooth
st="$OUT/sawtooth"
"$st" scenarios ci >"$OUT/ci.yaml"
sed 's#/cpu?ms=20#/cpu?ms=26#' "$OUT/ci.yaml" >"$OUT/ci-cpu-slow.yaml"
grep -q 'cpu?ms=26' "$OUT/ci-cpu-slow.yaml" || { echo "bench/aa.sh: could not make the slow /cpu scenario" >&2; exit 2; }

# run KIND I ARGS...: run the ci scenario, print its run directory.
run() {
	local kind=$1 i=$2
	shift 2
	local out="$OUT/runs/$kind-$i"
	"$st" run "$@" --ci --out "$out" >"$out.log" 2>&1 || true
	local dir
	dir=$(ls -1d "$out"/*/ 2>/dev/null | tail -n 1)
	[ -n "$dir" ] || { echo "bench/aa.sh: run $kind-$i left no run directory; see $out.log" >&2; exit 2; }
	echo "${dir%/}"
}

# cmp I KIND BASE NEW: compare and record one line of results.tsv.
cmp() {
	local i=$1 kind=$2 base=$3 new=$4 rc=0
	"$st" compare "$base" "$new" >"$OUT/runs/cmp-$kind-$i.txt" 2>&1 || rc=$?
	if [ "$rc" -gt 1 ]; then
		echo "bench/aa.sh: compare $kind $i exited $rc:" >&2
		cat "$OUT/runs/cmp-$kind-$i.txt" >&2
		exit 2
	fi
	local regs load
	regs=$(grep -E '^  [^ ].*: .* → ' "$OUT/runs/cmp-$kind-$i.txt" | sed 's/^ *//' | sort -u | paste -sd ';' - || true)
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	printf '%s\t%s\t%s\t%s\t%s\n' "$i" "$kind" "$rc" "$load" "${regs:--}" >>"$OUT/results.tsv"
	echo "pair $i $kind: exit $rc (load $load) ${regs}" >&2
}

printf 'pair\tkind\texit\tloadavg\tregressions\n' >"$OUT/results.tsv"
start=$(date -u +%FT%TZ)
for i in $(seq 1 "$PAIRS"); do
	a=$(run a "$i" ci)
	for kind in $KINDS; do
		case $kind in
		aa) new=$(run b "$i" ci) ;;
		leak) new=$(run leak "$i" ci --set leak_per_request=512KiB) ;;
		cpu) new=$(run cpu "$i" "$OUT/ci-cpu-slow.yaml") ;;
		*) echo "bench/aa.sh: unknown kind $kind in KINDS" >&2; exit 2 ;;
		esac
		cmp "$i" "$kind" "$a" "$new"
	done
	[ "$KEEP" = 1 ] || rm -rf "$OUT/runs/a-$i" "$OUT/runs/b-$i" "$OUT/runs/leak-$i" "$OUT/runs/cpu-$i"
done

{
	echo "bench/aa.sh: $PAIRS pairs of the ci scenario, $start to $(date -u +%FT%TZ)"
	echo "built from commit $commit, $(nproc) cores, uptime at the end: $(uptime)"
	for kind in $KINDS; do
		awk -F'\t' -v k="$kind" '$2 == k { n++; if ($3 == 1) f++ }
			END { printf "%-5s failed %d of %d compares\n", k, f, n }' "$OUT/results.tsv"
	done
	# The same A/A tables under the old rule: a gated number more than 10%
	# worse at two-sided p <= 0.10, each number on its own.
	old=0
	for f in "$OUT"/runs/cmp-aa-*.txt; do
		n=$({ grep -oE '×[0-9.]+ \(p=[0-9.]+\)' "$f" || true; } | sed -E 's/×([0-9.]+) \(p=([0-9.]+)\)/\1 \2/' |
			awk '$1 > 1.10 && $2 <= 0.10 { n++ } END { print n + 0 }')
		if [ "$n" -gt 0 ]; then old=$((old + 1)); fi
	done
	echo "aa    under the old rule (p <= 0.10 per number, no correction, no spread margin): $old of $PAIRS would have failed"
	for kind in $KINDS; do
		if [ "$kind" = aa ]; then continue; fi
		echo "$kind caught by: $(awk -F'\t' -v k="$kind" '$2 == k && $5 != "-" { print $5 }' "$OUT/results.tsv" | tr ';' '\n' |
			sed -E 's/^[^:]+: ([^ ]+) .*/\1/' | sort | uniq -c | awk '{ printf "%s %s/'"$PAIRS"', ", $2, $1 }' | sed 's/, $//')"
	done
	awk -F'\t' 'NR > 1 { split($4, l, " "); s += l[1]; n++; if (l[1] > m) m = l[1] }
		END { printf "1-minute load average over the compares: mean %.2f, max %.2f\n", s / n, m }' "$OUT/results.tsv"
} | tee "$OUT/summary.txt"
echo "results: $OUT/results.tsv" >&2
