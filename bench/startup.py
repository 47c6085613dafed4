"""Start-up time: from ``exec`` of ``python -m mailsandbox serve`` to its first ``200`` on /readyz.

Each launch gets a fresh temporary database and free ports; the clock starts just before the
process is spawned and stops at the first ``200`` from ``GET /readyz`` (polled every 5 ms
over a new connection). Two baselines are launched the same way, alternately with the
sandbox, so the machine's load weighs on all three alike:

* ``python -c pass``: the interpreter alone (exec to exit);
* a bare uvicorn + Starlette app with one ``/readyz`` route: the floor of any Python HTTP
  server built like the sandbox (exec to its first 200).

Prints the median and the spread of ``--launches`` launches of each (the pytest plugin pays
one sandbox start per test session).

    .venv/bin/python bench/startup.py [--launches 10]
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

POLL = 0.005
TIMEOUT = 60.0
TARGET = 0.5  # seconds to ready (issue 11)

BARE_APP = """
import sys
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

async def readyz(request):
    return PlainTextResponse("ok")

app = Starlette(routes=[Route("/readyz", readyz)])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ready(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/readyz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def time_to_ready(command: list[str], port: int) -> float:
    """Seconds from spawning ``command`` to the first 200 from its /readyz; then stop it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILSANDBOX_")}
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not ready(port):
            if proc.poll() is not None:
                raise RuntimeError(f"{command} exited with {proc.returncode}")
            if time.perf_counter() - start > TIMEOUT:
                raise RuntimeError(f"{command} not ready within {TIMEOUT:g} s")
            time.sleep(POLL)
        return time.perf_counter() - start
    finally:
        proc.terminate()
        proc.wait(30)


def sandbox_launch(tmp: Path, n: int) -> float:
    http_port = free_port()
    command = [
        sys.executable, "-m", "mailsandbox", "serve", "--db", str(tmp / f"start{n}.db"),
        "--smtp", f"127.0.0.1:{free_port()}", "--http", f"127.0.0.1:{http_port}",
    ]  # fmt: skip
    return time_to_ready(command, http_port)


def bare_launch(tmp: Path, n: int) -> float:
    port = free_port()
    return time_to_ready([sys.executable, "-c", BARE_APP, str(port)], port)


def interpreter_launch(tmp: Path, n: int) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - start


def describe(name: str, times: list[float]) -> str:
    median = statistics.median(times)
    return (
        f"{name:<28} median {median * 1000:6.0f} ms   "
        f"min {min(times) * 1000:5.0f}   max {max(times) * 1000:5.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--launches", type=int, default=10)
    args = parser.parse_args()
    cases: dict[str, Callable[[Path, int], float]] = {
        "python -c pass": interpreter_launch,
        "bare uvicorn app /readyz": bare_launch,
        "mailsandbox serve /readyz": sandbox_launch,
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    with tempfile.TemporaryDirectory() as tmp:
        sandbox_launch(Path(tmp), -1)  # warm-up: the OS file cache, .pyc files
        for n in range(args.launches):
            for name, launch in cases.items():
                times[name].append(launch(Path(tmp), n))
    print(f"{args.launches} launches each, alternating, fresh database per sandbox launch:")
    for name, values in times.items():
        print("  " + describe(name, values))
    sandbox = statistics.median(times["mailsandbox serve /readyz"])
    bare = statistics.median(times["bare uvicorn app /readyz"])
    verdict = "met" if sandbox <= TARGET else "NOT MET"
    print(f"  sandbox - bare app: {(sandbox - bare) * 1000:.0f} ms")
    print(f"  target: ready within {TARGET * 1000:.0f} ms -> {verdict}")


if __name__ == "__main__":
    main()
