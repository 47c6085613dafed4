"""The HTTP security flags on the command line: --allow-host, --allow-origin, and the start-up
note listing the accepted Host names when the sandbox listens beyond loopback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.sandbox.serve_process import free_port
from tests.waiting import eventually


def serve_until_banner(tmp_path: Path, *flags: str) -> tuple[subprocess.Popen[str], str, int]:
    """Start ``serve`` listening on all interfaces; returns the process, what it printed up to
    the banner's last line, and the HTTP port."""
    http_port = free_port()
    command = [
        sys.executable, "-m", "mailsandbox", "serve", "--db", str(tmp_path / "flags.db"),
        "--smtp", f"127.0.0.1:{free_port()}", "--http", f"0.0.0.0:{http_port}", *flags,
    ]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:  # ends at the banner's last line (or when serve exits)
        lines.append(line)
        if line.strip().startswith("Database"):
            break
    eventually(lambda: answers(f"http://127.0.0.1:{http_port}/readyz"))  # the banner comes first
    return proc, "".join(lines), http_port


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.ConnectError:
        return False


def test_listening_beyond_loopback_says_which_host_names_work(tmp_path: Path) -> None:
    proc, output, port = serve_until_banner(tmp_path)
    try:
        assert "answers only to the Host names localhost, *.localhost, IP addresses" in output
        assert "--allow-host" in output
        answer = httpx.get(
            f"http://127.0.0.1:{port}/livez", headers={"Host": "mailsandbox"}, timeout=10
        )
        assert answer.status_code == 403
    finally:
        proc.terminate()
        proc.wait(20)


def test_allow_host_from_the_environment_as_in_docker_compose(tmp_path: Path) -> None:
    proc, output, port = serve_until_banner(tmp_path, "--allow-host", "mailsandbox")
    try:
        assert "answers only to the Host names" not in output
        answer = httpx.get(
            f"http://127.0.0.1:{port}/livez", headers={"Host": "mailsandbox:8025"}, timeout=10
        )
        assert answer.status_code == 200
    finally:
        proc.terminate()
        proc.wait(20)


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--allow-origin", "localhost:3000", b"--allow-origin expects an origin"),
        ("--allow-origin", "http://x.test/path", b"--allow-origin expects an origin"),
        ("--allow-host", "http://mail.test", b"--allow-host expects a host name"),
        ("--allow-host", "mailsandbox:8025", b"no scheme or port"),
        ("--http-max-connections", "0", b"--http-max-connections"),
        ("--http-header-timeout", "0", b"--http-header-timeout"),
    ],
)
def test_bad_values_fail_with_one_line(flag: str, value: str, message: bytes) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mailsandbox", "serve", flag, value],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert message in result.stderr and b"Traceback" not in result.stderr
