"""Reading one big message many times at once costs one parse (issue 14: eight parallel
``/view/{ID}`` of a 50 MB message took the server from 185 MB to 1.26 GB and kept 436 MB;
eight ``/api/v1/message/{ID}`` peaked at 855 MB). Now eight parallel reads stay under +300 MB
and the server returns to its baseline. RSS of a real ``mailsandbox serve`` process, from
``/proc`` (the peak is ``VmHWM``, reset through ``clear_refs`` before the reads).
"""

from __future__ import annotations

import base64
import os
import smtplib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.sandbox.serve_process import ServeProcess, start_serve
from tests.waiting import eventually

MB = 1024 * 1024
PARALLEL = 8


def _status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in bytes."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return {k: int(fields[k].split()[0]) * 1024 for k in ("VmRSS", "VmHWM")}


def fifty_mb_mail() -> bytes:
    """Text and HTML bodies of 2 MB each and a base64 attachment: 50 MB in all."""
    line = b"The quick brown fox jumps over the lazy dog, again and again and again.\r\n"
    text = line * (2 * MB // len(line))
    html = b"<html><body><p>" + text + b"</p></body></html>\r\n"
    attachment = base64.encodebytes(os.urandom(34 * MB)).replace(b"\n", b"\r\n")
    return (
        b"Subject: fifty\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\n" + text + b"\r\n"
        b"--b\r\nContent-Type: text/html\r\n\r\n" + html + b"\r\n"
        b"--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: attachment; filename="big.pdf"\r\n\r\n' + attachment + b"--b--\r\n"
    )


def _parallel_reads(server: ServeProcess, path: str) -> None:
    def read(_: int) -> int:
        with httpx.Client(base_url=server.url, timeout=600) as client:
            response = client.get(path)
            assert response.status_code == 200
            return len(response.content)

    with ThreadPoolExecutor(PARALLEL) as pool:
        assert all(list(pool.map(read, range(PARALLEL))))


def test_eight_parallel_reads_of_a_50_mb_message(tmp_path: Path) -> None:
    server = start_serve(tmp_path / "sandbox.db", "--smtp-max-size", "0")
    try:
        raw = fifty_mb_mail()
        assert len(raw) > 49 * MB
        with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=600) as client:
            assert client.sendmail("app@example.com", ["bob@example.com"], raw) == {}
        del raw
        with httpx.Client(base_url=server.url) as api:
            message = api.get("/api/v1/messages").json()["messages"][0]["ID"]
        pid = server.proc.pid
        for path in (f"/view/{message}", f"/api/v1/message/{message}"):
            baseline = _status(pid)["VmRSS"]
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS
            _parallel_reads(server, path)
            grew = _status(pid)["VmHWM"] - baseline
            assert grew < 300 * MB, f"{path}: +{grew // MB} MB"
            # Back to the baseline, give or take the cached parse (a few MB) and page caches.
            eventually(lambda b=baseline: _status(pid)["VmRSS"] < b + 64 * MB, timeout=30)
    finally:
        server.stop()
