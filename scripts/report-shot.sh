#!/usr/bin/env bash
# report-shot.sh renders a run directory's report.html in headless
# Chromium to a PNG, to look at the page as a user would.
#
#   scripts/report-shot.sh [RUN_DIR [OUT.png]]
#
# RUN_DIR defaults to the newest directory under runs/; OUT.png to
# report-shot.png. The report is (re)built first with bin/sawtooth (or
# `go run ./cmd/sawtooth` when bin/sawtooth is missing). Needs Debian's
# chromium (apt-get install -y chromium). Not part of CI.
set -euo pipefail

run_dir=${1:-}
out=${2:-report-shot.png}
if [[ -z $run_dir ]]; then
	run_dir=$(ls -1dt runs/*/ 2>/dev/null | head -n 1 || true)
	if [[ -z $run_dir ]]; then
		echo "report-shot: no run directory under runs/; run 'make demo' first or pass RUN_DIR" >&2
		exit 2
	fi
fi
run_dir=${run_dir%/}

chromium=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [[ -z $chromium ]]; then
	echo "report-shot: chromium not found; install it with: apt-get install -y chromium" >&2
	exit 2
fi

if [[ -x bin/sawtooth ]]; then
	bin/sawtooth report "$run_dir" --format table >/dev/null
else
	go run ./cmd/sawtooth report "$run_dir" --format table >/dev/null
fi

html=$(cd "$run_dir" && pwd)/report.html
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# --no-sandbox: Chromium refuses to run as root with its sandbox; the page
# is our own file and the network is not used.
"$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars \
	--user-data-dir="$profile" --window-size=1280,4000 \
	--screenshot="$(realpath -m "$out")" "file://$html" 2>/dev/null
echo "report-shot: $out (from $html)"
