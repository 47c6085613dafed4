"""Run ``python -m mailsandbox serve`` as a real child process for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServeProcess:
    proc: subprocess.Popen[str]
    smtp_port: int
    http_port: int
    banner: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


def start_serve(db: Path, *extra: str, timeout: float = 30.0) -> ServeProcess:
    """Start the CLI on free ports; returns once ``/readyz`` answers 200."""
    smtp_port, http_port = free_port(), free_port()
    command = [
        sys.executable, "-m", "mailsandbox", "serve", "--db", str(db),
        "--smtp", f"127.0.0.1:{smtp_port}", "--http", f"127.0.0.1:{http_port}", *extra,
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILSANDBOX_")}
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    assert proc.stdout is not None
    banner: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("serve exited early:\n" + "".join(banner))
        banner.append(line)
        if line.strip().startswith("Database"):
            break
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{http_port}/readyz", timeout=2).status_code == 200:
                return ServeProcess(proc, smtp_port, http_port, "".join(banner))
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("serve did not become ready")
