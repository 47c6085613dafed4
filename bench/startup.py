"""Start-up time: from ``exec`` of ``python -m mailsandbox serve`` to its first ``200`` on /readyz.

Each launch gets a fresh temporary database and free ports; the clock starts just before the
process is spawned and stops at the first ``200`` from ``GET /readyz`` (polled every 5 ms
over a new connection). Two baselines are launched the same way, alternately with the
sandbox, so the machine's load weighs on all three alike:

* ``python -c pass``: the interpreter alone (exec to exit);
* a bare uvicorn + Starlette app with one ``/readyz`` route: the floor of any Python HTTP
  server built like the sandbox (exec to its first 200);
* the same with FastAPI instead of Starlette: the floor of the framework the sandbox uses
  (importing FastAPI costs more than the rest of that app together).

With ``--against COMMIT`` the sandbox as it was at that commit is launched too, in the same
rotation: its tree (``git archive``) is laid out as the ``mailsandbox`` package with symlinks,
as ``scripts/typecheck-tree.sh`` does, and put first on ``PYTHONPATH`` (the dependencies are
this virtualenv's).

Prints the median and the spread of ``--launches`` launches of each (the pytest plugin pays
one sandbox start per test session), and the median CPU time (user + system, from ``/proc``)
the process had used when it became ready, which the machine's load moves much less.

    .venv/bin/python bench/startup.py [--launches 10] [--against cff706f]
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

BARE_FASTAPI = """
import sys
import uvicorn
from fastapi import FastAPI

app = FastAPI()

@app.get("/readyz")
async def readyz() -> str:
    return "ok"

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


def launch_env() -> dict[str, str]:
    """This environment without ``MAILSANDBOX_*`` settings, and with bytecode caching on as
    for any user (``PYTHONDONTWRITEBYTECODE`` would compile every module from source)."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MAILSANDBOX_") and k != "PYTHONDONTWRITEBYTECODE"
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def package_tree(commit: str, into: Path) -> Path:
    """The ``mailsandbox`` package of ``commit`` as a directory to put on ``PYTHONPATH``."""
    source = into / "source"
    source.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", commit], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
    return _linked_package(source, into)


def working_tree(into: Path) -> Path:
    """This checkout's package laid out as :func:`package_tree` lays out a commit's: the side
    of a comparison that runs this tree runs from ``PYTHONPATH`` too. Whether that variable is
    set at all moved a server's speed by up to 17 % on this machine (the same stock aiosmtpd
    sink, 8 connections: 2,410-2,490 msg/s with ``PYTHONPATH=/nonexistent``, 1,910-2,030
    without; another variable of any length, 0 to 2,048 bytes, moved nothing), so a commit run
    from ``PYTHONPATH`` against this tree run without it was no fair comparison."""
    return _linked_package(Path(__file__).resolve().parent.parent, into)


def _linked_package(source: Path, into: Path) -> Path:
    package = into / "path" / "mailsandbox"
    package.mkdir(parents=True)
    for entry in (source / "sandbox").iterdir():
        (package / entry.name).symlink_to(entry)
    for folder in ("web", "emulators"):
        (package / folder).symlink_to(source / folder)
    return into / "path"


def time_to_ready(
    command: list[str], port: int, pythonpath: Path | None = None
) -> tuple[float, float]:
    """Seconds from spawning ``command`` to the first 200 from its /readyz, and the CPU
    seconds it had used by then; then stop it."""
    env = launch_env()
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not ready(port):
            if proc.poll() is not None:
                raise RuntimeError(f"{command} exited with {proc.returncode}")
            if time.perf_counter() - start > TIMEOUT:
                raise RuntimeError(f"{command} not ready within {TIMEOUT:g} s")
            time.sleep(POLL)
        return time.perf_counter() - start, cpu_seconds(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)


def sandbox_launch(tmp: Path, n: int, pythonpath: Path | None = None) -> tuple[float, float]:
    http_port = free_port()
    db = tmp / f"{pythonpath.parent.name if pythonpath else 'plain'}{n}" / "start.db"
    db.parent.mkdir()
    command = [
        sys.executable, "-m", "mailsandbox", "serve", "--db", str(db),
        "--smtp", f"127.0.0.1:{free_port()}", "--http", f"127.0.0.1:{http_port}",
    ]  # fmt: skip
    return time_to_ready(command, http_port, pythonpath)


def bare_launch(tmp: Path, n: int) -> tuple[float, float]:
    port = free_port()
    return time_to_ready([sys.executable, "-c", BARE_APP, str(port)], port)


def fastapi_launch(tmp: Path, n: int) -> tuple[float, float]:
    port = free_port()
    return time_to_ready([sys.executable, "-c", BARE_FASTAPI, str(port)], port)


def interpreter_launch(tmp: Path, n: int) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", "pass"], env=launch_env())
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def describe(name: str, runs: list[tuple[float, float]]) -> str:
    times = [wall for wall, _ in runs]
    cpu = statistics.median(cpu for _, cpu in runs)
    return (
        f"{name:<28} median {statistics.median(times) * 1000:6.0f} ms   "
        f"min {min(times) * 1000:5.0f}   max {max(times) * 1000:5.0f}   "
        f"CPU {cpu * 1000:5.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--launches", type=int, default=10)
    parser.add_argument("--against", metavar="COMMIT", help="also launch the sandbox of COMMIT")
    args = parser.parse_args()
    cases: dict[str, Callable[[Path, int], tuple[float, float]]] = {
        "python -c pass": interpreter_launch,
        "bare uvicorn app /readyz": bare_launch,
        "bare FastAPI app /readyz": fastapi_launch,
        "mailsandbox serve /readyz": sandbox_launch,
    }
    with tempfile.TemporaryDirectory() as tmp:
        if args.against:
            then = package_tree(args.against, Path(tmp) / "then")
            now = working_tree(Path(tmp) / "now")
            cases["mailsandbox serve /readyz"] = lambda t, n: sandbox_launch(t, n, now)
            cases[f"  ... at {args.against}"] = lambda t, n: sandbox_launch(t, n, then)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
        for launch in cases.values():  # warm-up: the OS file cache, .pyc files
            launch(Path(tmp), -1)
        for n in range(args.launches):
            for name, launch in cases.items():
                times[name].append(launch(Path(tmp), n))
    print(f"{args.launches} launches each, alternating, fresh database per sandbox launch:")
    for name, values in times.items():
        print("  " + describe(name, values))
    sandbox = statistics.median(wall for wall, _ in times["mailsandbox serve /readyz"])
    bare = statistics.median(wall for wall, _ in times["bare uvicorn app /readyz"])
    verdict = "met" if sandbox <= TARGET else "NOT MET"
    print(f"  sandbox - bare app: {(sandbox - bare) * 1000:.0f} ms")
    print(f"  target: ready within {TARGET * 1000:.0f} ms -> {verdict}")


if __name__ == "__main__":
    main()
