// Package integration runs sawtooth against real third-party servers:
// gunicorn with the Flask app and uvicorn with the FastAPI app of
// testdata/apps, through the same runner and reports a user gets from
// "sawtooth run" and "sawtooth report".
//
// The tests prove that the harness measures what the two source articles
// describe on the real thing: a worker leak and its slope, gunicorn's
// --max-requests restarts seen both in its log and in the process tree, an
// event loop stalled by CPU work and freed by a process pool, and a request
// id lost on the way into an executor.
//
// They need the Debian packages that scripts/deps.sh installs (make deps):
// gunicorn, uvicorn, python3-flask, python3-fastapi and
// python3-prometheus-client, run by /usr/bin/python3. Without them the
// tests are skipped, unless the CI environment variable is set, in which
// case a missing package is a failure.
package integration
