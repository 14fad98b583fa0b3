"""One request at a time during a CPU-bound offload: the GIL hand-off, alone.

Usage: /usr/bin/python3 bench/loop/lone_request.py PORT

Against a server on 127.0.0.1:PORT with a thread pool (uvicorn with
OFFLOAD=threads, or `sawtooth serve --worker-model loop --offload threads`),
it starts one GET /cpu?ms=3000, and 0.3 s later sends 40 GET /light one
after another on one keep-alive connection, and prints their median and
90th percentile latency. Each /light waits for the GIL at the loop's
release points while the CPU-bound thread holds it (docs/loop.md,
"Calibration against uvicorn").
"""

import http.client
import statistics
import sys
import threading
import time


def main():
    port = int(sys.argv[1])

    def heavy():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("GET", "/cpu?ms=3000")
        c.getresponse().read()

    th = threading.Thread(target=heavy)
    th.start()
    time.sleep(0.3)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    ms = []
    for _ in range(40):
        t = time.perf_counter()
        c.request("GET", "/light")
        c.getresponse().read()
        ms.append((time.perf_counter() - t) * 1e3)
    th.join()
    print("median %.1f ms, p90 %.1f ms" % (statistics.median(ms), sorted(ms)[35]))


if __name__ == "__main__":
    main()
