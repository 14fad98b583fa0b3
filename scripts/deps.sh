#!/usr/bin/env bash
# Install the Debian packages sawtooth's real targets and benchmarks need:
# gunicorn, uvicorn, Flask, FastAPI and prometheus-client for /usr/bin/python3
# (testdata/apps, the integration tests), Prometheus (the tests of the
# url target's sample.prometheus source, which start a real server), wrk
# and jq (the benchmarks), and zsh and fish (the completion scripts' tests).
#
# Idempotent: installs only what is missing. As root it runs apt-get; as
# anyone else it prints the command to run and exits 1 if something is missing.
set -euo pipefail

packages=(gunicorn uvicorn python3-flask python3-fastapi python3-prometheus-client prometheus wrk jq zsh fish)

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	if [[ "$status" != "install ok installed" ]]; then
		missing+=("$p")
	fi
done

if ((${#missing[@]} > 0)); then
	cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
	if [[ $(id -u) -ne 0 ]]; then
		echo "deps: missing Debian packages: ${missing[*]}" >&2
		echo "deps: run as root:  $cmd" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}"
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

# The targets run under Debian's interpreter, not whatever python3 is first on PATH.
/usr/bin/python3 -c 'import flask, fastapi, uvicorn, prometheus_client' ||
	{ echo "deps: /usr/bin/python3 cannot import flask, fastapi, uvicorn, prometheus_client" >&2; exit 1; }
/usr/bin/prometheus --version >/dev/null 2>&1 ||
	{ echo "deps: /usr/bin/prometheus does not run" >&2; exit 1; }
echo "deps: ok ($(/usr/bin/gunicorn --version), uvicorn $(/usr/bin/python3 -c 'import uvicorn; print(uvicorn.__version__)'))"
