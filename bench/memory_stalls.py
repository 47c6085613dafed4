"""Stalls and memory of a real ``mailsandbox serve`` process under hostile or huge mail.

Stalls: while one heavy request runs (codes of an 8,000-line mail, links of a big HTML body,
the sanitised preview of a big HTML body, the SMTP ingest of a 28 MB message), two probes
measure how long the server takes to answer something unrelated: ``GET /livez`` over HTTP and
``NOOP`` over an open SMTP connection, every 10 ms. The longest answer is how long the event
loop was blocked. Memory: RSS of the server (``/proc/<pid>/status``) before, at its peak during,
and after eight parallel reads of one 50 MB message (the UI page ``/view/{ID}`` and the API's
``/api/v1/message/{ID}``); the peak is ``VmHWM`` after resetting it through ``clear_refs``.

    .venv/bin/python bench/memory_stalls.py [--only stalls|memory] [--huge]

``--huge`` adds the 50,000-line codes case (over two minutes before the fix).
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import smtplib
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from smtp_ingest import free_port, start_sandbox

MB = 1024 * 1024


# --- the mail ------------------------------------------------------------------------------
def _mime(subject: str, parts: list[tuple[str, str, bytes]]) -> bytes:
    """A multipart/mixed message of ``(content type, disposition, body)`` parts, CRLF."""
    head = (
        f"From: Bench <bench@example.com>\r\nTo: <inbox@example.com>\r\nSubject: {subject}\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="BOUNDARY"\r\n\r\n'
    ).encode()
    out = [head]
    for content_type, disposition, body in parts:
        out.append(
            f"--BOUNDARY\r\nContent-Type: {content_type}\r\n{disposition}\r\n".encode() + body
        )
    out.append(b"\r\n--BOUNDARY--\r\n")
    return b"".join(out)


def codes_mail(lines: int) -> bytes:
    """``lines`` lines, each with a code word and a six-digit number (~39 bytes a line)."""
    body = "".join(f"Your verification code is {100000 + n} ok\r\n" for n in range(lines))
    return _mime(f"codes {lines}", [("text/plain; charset=utf-8", "", b"\r\n" + body.encode())])


def links_mail(size: int) -> bytes:
    """An HTML body of ``size`` bytes made of tracked links."""
    anchor = '<p><a href="https://t.example/c?u=https://shop.example/item/{n}">Item {n}</a></p>\r\n'
    body, n = [], 0
    while sum(len(b) for b in body) < size:
        body.append(anchor.format(n=n))
        n += 1
    html = "<html><body>\r\n" + "".join(body) + "</body></html>\r\n"
    return _mime("links", [("text/html; charset=utf-8", "", b"\r\n" + html.encode())])


def attachment_mail(subject: str, total: int, text: int = 2 * MB, html: int = 2 * MB) -> bytes:
    """Text and HTML bodies plus a base64 attachment, ``total`` bytes in all."""
    line = b"The quick brown fox jumps over the lazy dog, again and again and again.\r\n"
    text_body = line * (text // len(line))
    html_body = b"<html><body>" + b"<p>" + line * (html // len(line)) + b"</p></body></html>\r\n"
    left = max(total - len(text_body) - len(html_body), 0)
    raw = os.urandom(left * 3 // 4 - 1000)
    encoded = base64.encodebytes(raw).replace(b"\n", b"\r\n")
    return _mime(
        subject,
        [
            ("text/plain; charset=utf-8", "", b"\r\n" + text_body),
            ("text/html; charset=utf-8", "", b"\r\n" + html_body),
            (
                "application/pdf",
                'Content-Disposition: attachment; filename="big.pdf"\r\n'
                "Content-Transfer-Encoding: base64\r\n",
                b"\r\n" + encoded,
            ),
        ],
    )


def send(port: int, raw: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=600) as client:
        client.sendmail("bench@example.com", ["inbox@example.com"], raw)


# --- probes --------------------------------------------------------------------------------
class Probe:
    """Measures, every 10 ms, how long ``GET /livez`` and an SMTP ``NOOP`` take to answer."""

    def __init__(self, http_url: str, smtp_port: int) -> None:
        self.http_url, self.smtp_port = http_url, smtp_port
        self.worst = {"http": 0.0, "smtp": 0.0}
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._http, daemon=True),
            threading.Thread(target=self._smtp, daemon=True),
        ]

    def _record(self, kind: str, started: float) -> None:
        self.worst[kind] = max(self.worst[kind], (time.perf_counter() - started) * 1000)

    def _http(self) -> None:
        with httpx.Client(base_url=self.http_url, timeout=600) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                client.get("/livez")
                self._record("http", started)
                time.sleep(0.01)

    def _smtp(self) -> None:
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=600) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                client.noop()
                self._record("smtp", started)
                time.sleep(0.01)

    def __enter__(self) -> Probe:
        for thread in self._threads:
            thread.start()
        time.sleep(0.1)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(600)


def stall(name: str, url: str, smtp_port: int, action: Callable[[], object]) -> None:
    with Probe(url, smtp_port) as probe:
        started = time.perf_counter()
        action()
        took = time.perf_counter() - started
    print(
        f"{name:<44}{took * 1000:>10.0f} ms{probe.worst['http']:>12.0f} ms"
        f"{probe.worst['smtp']:>12.0f} ms",
        flush=True,
    )


def latest_id(api: httpx.Client) -> str:
    return str(api.get("/api/v1/messages", params={"limit": 1}).json()["messages"][0]["ID"])


def run_stalls(api: httpx.Client, url: str, smtp_port: int, huge: bool) -> None:
    print(f"{'heavy request':<44}{'took':>13}{'worst /livez':>15}{'worst NOOP':>15}")
    cases = [(8_000, "codes of an 8,000-line mail (312 KB)")]
    if huge:
        cases.append((50_000, "codes of a 50,000-line mail (1.9 MB)"))
    for lines, label in cases:
        send(smtp_port, codes_mail(lines))
        message = latest_id(api)
        stall(label, url, smtp_port, lambda m=message: api.get(f"/api/v1/message/{m}/codes"))
        stall(
            label.replace("codes", "UI codes"),
            url,
            smtp_port,
            lambda m=message: api.get(f"/ui/message/{m}/codes"),
        )
    send(smtp_port, links_mail(2 * MB))
    message = latest_id(api)
    stall(
        "links of a 2 MB HTML body",
        url,
        smtp_port,
        lambda: api.get(f"/api/v1/message/{message}/links"),
    )
    stall(
        "UI preview of a 2 MB HTML body",
        url,
        smtp_port,
        lambda: api.get(f"/ui/message/{message}/preview"),
    )
    stall(
        "/view/{ID}.html of a 2 MB HTML body",
        url,
        smtp_port,
        lambda: api.get(f"/view/{message}.html"),
    )
    big = attachment_mail("28 MB", 28 * MB)
    stall("SMTP ingest of a 28 MB message", url, smtp_port, lambda: send(smtp_port, big))


# --- memory --------------------------------------------------------------------------------
def rss(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS since the last reset) in MB."""
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def settle(pid: int) -> float:
    """RSS once it stops falling (the server frees memory as responses finish)."""
    last = rss(pid)[0]
    for _ in range(20):
        time.sleep(0.25)
        now = rss(pid)[0]
        if abs(now - last) < 1:
            return now
        last = now
    return last


def parallel_reads(url: str, path: str, count: int = 8) -> None:
    def read(_: int) -> int:
        with httpx.Client(base_url=url, timeout=600) as client:
            response = client.get(path)
            return len(response.content)

    with ThreadPoolExecutor(count) as pool:
        list(pool.map(read, range(count)))


def run_memory(api: httpx.Client, url: str, smtp_port: int, pid: int) -> None:
    send(smtp_port, attachment_mail("50 MB", 50 * MB))
    message = latest_id(api)
    print(f"{'eight parallel reads of a 50 MB message':<44}{'before':>10}{'peak':>10}{'after':>10}")
    for label, path in (
        ("UI page /view/{ID}", f"/view/{message}"),
        ("API /api/v1/message/{ID}", f"/api/v1/message/{message}"),
        ("API /api/v1/message/{ID}/raw", f"/api/v1/message/{message}/raw"),
        ("UI attachment /ui/message/{ID}/part/3", f"/ui/message/{message}/part/3"),
    ):
        before = settle(pid)
        reset_peak(pid)
        parallel_reads(url, path)
        peak = rss(pid)[1]
        after = settle(pid)
        print(f"{label:<44}{before:>7.0f} MB{peak:>7.0f} MB{after:>7.0f} MB", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["stalls", "memory"], default=None)
    parser.add_argument("--huge", action="store_true", help="add the 50,000-line codes case")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="mailsandbox-bench-"))
    smtp_port, http_port = free_port(), free_port()
    server = start_sandbox(workdir / "bench.db", smtp_port, http_port, "--smtp-max-size", "0")
    url = f"http://127.0.0.1:{http_port}"
    try:
        with httpx.Client(base_url=url, timeout=600) as api:
            if args.only in (None, "stalls"):
                run_stalls(api, url, smtp_port, args.huge)
            if args.only in (None, "memory"):
                run_memory(api, url, smtp_port, server.pid)
    finally:
        server.kill()
        server.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
