"""No request can freeze the server (issue 14): while a heavy request runs (the one-time codes
of an 8,000-line or a 50,000-line mail, the SMTP ingest of a 28 MB message), an unrelated HTTP
request and an SMTP NOOP, each on its own connection, keep being answered.

Measured against a real ``mailsandbox serve`` process with real sockets. Before the fix the
codes request held the event loop for its whole duration (7 s for 8,000 lines, minutes for
50,000), so every probe waited that long. The bound here is generous on purpose (it must hold
on a loaded machine): a probe never waits a second, nor a third of the heavy request's time.
"""

from __future__ import annotations

import base64
import os
import smtplib
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.sandbox.serve_process import ServeProcess, start_serve

MB = 1024 * 1024


class Probes:
    """``GET /livez`` and SMTP ``NOOP`` in a loop, each on its own connection, timed."""

    def __init__(self, server: ServeProcess) -> None:
        self.server = server
        self.latencies: dict[str, list[float]] = {"http": [], "smtp": []}
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._http, daemon=True),
            threading.Thread(target=self._smtp, daemon=True),
        ]

    def _timed(self, kind: str, call: Callable[[], object]) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            call()
            self.latencies[kind].append(time.perf_counter() - started)
            self._stop.wait(0.01)  # pace the probe: it must not be a load of its own

    def _http(self) -> None:
        with httpx.Client(base_url=self.server.url, timeout=600) as client:
            self._timed("http", lambda: client.get("/livez").raise_for_status())

    def _smtp(self) -> None:
        with smtplib.SMTP("127.0.0.1", self.server.smtp_port, timeout=600) as client:
            self._timed("smtp", lambda: client.noop())

    def during(self, heavy: Callable[[], object]) -> float:
        """Run ``heavy`` with the probes going; its duration in seconds."""
        for thread in self._threads:
            thread.start()
        started = time.perf_counter()
        try:
            heavy()
        finally:
            took = time.perf_counter() - started
            self._stop.set()
            for thread in self._threads:
                thread.join(600)
        return took

    def assert_not_blocked(self, took: float) -> None:
        for kind, latencies in self.latencies.items():
            assert len(latencies) >= 3, f"{kind}: only {len(latencies)} answers in {took:.1f} s"
            worst = max(latencies)
            assert worst < max(1.0, took / 3), f"{kind} waited {worst:.2f} s of {took:.2f} s"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    running = start_serve(tmp_path_factory.mktemp("stalls") / "sandbox.db", "--smtp-max-size", "0")
    yield running
    running.stop()


def _send(server: ServeProcess, raw: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=600) as client:
        assert client.sendmail("app@example.com", ["bob@example.com"], raw) == {}


def _latest(server: ServeProcess) -> str:
    with httpx.Client(base_url=server.url) as api:
        return str(api.get("/api/v1/messages", params={"limit": 1}).json()["messages"][0]["ID"])


def codes_mail(lines: int) -> bytes:
    """The issue's input: ``lines`` lines, each a code word and a code (39 bytes a line)."""
    body = "".join(f"Your verification code is {100000 + n} ok\r\n" for n in range(lines))
    return f"Subject: codes {lines}\r\n\r\n{body}".encode()


def html_mail(markup: str) -> bytes:
    return f"Subject: html\r\nContent-Type: text/html\r\n\r\n{markup}".encode()


@pytest.mark.parametrize(
    ("mail", "path", "found"),
    [
        (codes_mail(8_000), "/api/v1/message/{}/codes", "100000"),
        (codes_mail(8_000), "/ui/message/{}/codes", "100000"),
        (codes_mail(50_000), "/api/v1/message/{}/codes", "100000"),
        # html.parser's end of input was quadratic: 8 s and 27 s, at ingest already
        (html_mail("<a" * 40_000), "/api/v1/message/{}/links", "links"),
        (html_mail("<!--" * 40_000), "/api/v1/message/{}", '"Text":"<!--<!--'),
        # the preview's <meta> pattern rescanned the markup from every unclosed tag: 66 s
        (html_mail("<meta " * 20_000), "/ui/message/{}/preview", "<meta <meta"),
    ],
    ids=[
        "codes-8000",
        "ui-codes-8000",
        "codes-50000",
        "links-unclosed-tags",
        "text-comments",
        "preview-unclosed-meta",
    ],
)
def test_a_pathological_mail_does_not_block_the_server(
    server: ServeProcess, mail: bytes, path: str, found: str
) -> None:
    """Its ingest (SMTP) and then the heavy request, with the probes going throughout."""
    answers: list[httpx.Response] = []

    def heavy() -> None:
        _send(server, mail)
        with httpx.Client(base_url=server.url, timeout=600) as api:
            answers.append(api.get(path.format(_latest(server))))

    probes = Probes(server)
    took = probes.during(heavy)
    assert answers[0].status_code == 200
    assert found in answers[0].text  # the scan ran to the end
    probes.assert_not_blocked(took)


def test_ingest_of_a_28_mb_message_does_not_block_the_server(server: ServeProcess) -> None:
    attachment = base64.encodebytes(os.urandom(21 * MB)).replace(b"\n", b"\r\n")
    raw = (
        b"Subject: big\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
        b"--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: attachment; filename="big.pdf"\r\n\r\n' + attachment + b"--b--\r\n"
    )
    assert len(raw) > 28 * MB
    probes = Probes(server)
    took = probes.during(lambda: _send(server, raw))
    probes.assert_not_blocked(took)
    with httpx.Client(base_url=server.url) as api:
        stored = api.get("/api/v1/messages", params={"limit": 1}).json()["messages"][0]
    assert stored["Subject"] == "big" and stored["Size"] > 28 * MB
