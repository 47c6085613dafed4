"""Run ``python -m mailsandbox serve`` as a real child process for end-to-end tests.

Its stdout and stderr go to files beside the database (a pipe nobody reads could fill up and
block the server), read back with :meth:`ServeProcess.stdout` / :meth:`ServeProcess.stderr`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.tools import require_program
from tests.waiting import eventually


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without ``MAILSANDBOX_*`` (the test's own settings win)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILSANDBOX_")}
    env.update(extra or {})
    return env


def serve_command(db: Path | str, *extra: str, smtp_port: int = 0, http_port: int = 0) -> list[str]:
    return [
        sys.executable, "-m", "mailsandbox", "serve", "--db", str(db),
        "--smtp", f"127.0.0.1:{smtp_port}", "--http", f"127.0.0.1:{http_port}", *extra,
    ]  # fmt: skip


@dataclass
class ServeProcess:
    proc: subprocess.Popen[bytes]
    smtp_port: int
    http_port: int
    output: Path  # stdout goes to ``output``, stderr to ``output`` + ``.err``

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def banner(self) -> str:
        return self.stdout()

    def stdout(self) -> str:
        return self.output.read_text()

    def stderr(self) -> str:
        return self.output.with_name(self.output.name + ".err").read_text()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


def ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait_ready(server: ServeProcess, timeout: float = 30.0) -> ServeProcess:
    """Return once ``/readyz`` answers 200 and the banner is out; fail at once if it exits."""

    def check() -> bool:
        if server.proc.poll() is not None:
            raise RuntimeError(
                f"serve exited with {server.proc.returncode}:\n{server.stdout()}{server.stderr()}"
            )
        return ready(server.url) and "Database" in server.stdout()

    try:
        eventually(check, timeout=timeout, what="serve answers /readyz")
    except AssertionError:
        server.stop()
        raise
    return server


def launch_serve(
    db: Path,
    *extra: str,
    env: Mapping[str, str] | None = None,
    command: list[str] | None = None,
    ports: tuple[int, int] | None = None,
    cwd: Path | None = None,
) -> ServeProcess:
    """Start the CLI on free ports without waiting for it; or run ``command`` (which listens
    on ``ports``, SMTP and HTTP, as its ``env`` says) with its output beside ``db``; in
    ``cwd`` if given."""
    smtp_port, http_port = ports or (free_port(), free_port())
    output = db.with_name(db.name + ".out")
    with output.open("wb") as out, output.with_name(output.name + ".err").open("wb") as err:
        proc = subprocess.Popen(
            command or serve_command(db, *extra, smtp_port=smtp_port, http_port=http_port),
            stdout=out, stderr=err, env=clean_env(env), cwd=cwd,
        )  # fmt: skip
    return ServeProcess(proc, smtp_port, http_port, output)


def start_serve(
    db: Path, *extra: str, timeout: float = 30.0, env: Mapping[str, str] | None = None
) -> ServeProcess:
    """Start the CLI on free ports; returns once ``/readyz`` answers 200."""
    return wait_ready(launch_serve(db, *extra, env=env), timeout)


def run_serve(
    *args: str, env: Mapping[str, str] | None = None, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run ``mailsandbox serve ARGS`` to its end (a start that must fail); text output."""
    return subprocess.run(
        [*prefix, sys.executable, "-m", "mailsandbox", "serve", *args],
        capture_output=True, text=True, timeout=60, env=clean_env(env),
    )  # fmt: skip


def unwritable_for_serve(directory: Path) -> tuple[str, ...]:
    """Make ``directory`` (empty) belong to another user than the process started with the
    returned command prefix, as a Docker bind mount created by root is for the image's uid
    1000. As root (who may write anywhere) the process runs as uid 0 without that power
    (``setpriv``) and the directory goes to uid 1000; otherwise it is made read-only."""
    if os.geteuid() != 0:
        directory.chmod(0o555)
        return ()
    os.chown(directory, 1000, 1000)
    setpriv = require_program("setpriv", "util-linux")
    return (setpriv, "--bounding-set=-dac_override,-dac_read_search", "--")
