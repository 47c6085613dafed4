"""The coalesced response writes (sandbox/http_coalesce.py) against uvicorn's plain httptools
protocol: the same app, served by both on real sockets, must put the same bytes on the wire,
and a streamed response's head must still leave before its body is produced."""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import socket
import threading
from collections.abc import Iterator

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

from mailsandbox.http_limits import LimitedProtocol
from tests.waiting import eventually

RELEASE = threading.Event()  # lets /stream send its body once the client saw the head


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    path = scope["path"]
    if path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio_wait(RELEASE)
        for part in (b"one", b"two"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    if path == "/empty":
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    payload = json.dumps({"path": path, "received": len(body)}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def asyncio_wait(event: threading.Event) -> None:
    await asyncio.get_running_loop().run_in_executor(None, event.wait, 10)


def serve(http: object) -> Iterator[tuple[str, int]]:
    sock = socket.create_server(("127.0.0.1", 0))
    config = uvicorn.Config(app, http=http, log_level="warning", lifespan="off")  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    eventually(lambda: server.started)
    yield sock.getsockname()
    server.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture(scope="module")
def plain() -> Iterator[tuple[str, int]]:
    yield from serve("httptools")


@pytest.fixture(scope="module")
def coalescing() -> Iterator[tuple[str, int]]:
    yield from serve(LimitedProtocol)


REQUESTS = {
    "json": b"GET /json HTTP/1.1\r\nHost: x\r\n\r\n",
    "head": b"HEAD /json HTTP/1.1\r\nHost: x\r\n\r\n",
    "empty": b"POST /empty HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    "chunked upload": b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    "keep-alive, then close": b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
    b"GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "HTTP/1.0": b"GET /old HTTP/1.0\r\n\r\n",
}


def exchange(address: tuple[str, int], request: bytes) -> bytes:
    """Send, then read until the server closes or the last response is complete (the
    requests above end with a close, or are answered with a Content-Length)."""
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(request)
        if b"Connection: close" not in request and b"HTTP/1.0" not in request:
            sock.sendall(b"GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return re.sub(rb"date: [^\r]*", b"date: -", received)


@pytest.mark.parametrize("name", REQUESTS)
def test_the_same_bytes_as_the_plain_protocol(
    name: str, plain: tuple[str, int], coalescing: tuple[str, int]
) -> None:
    ours = exchange(coalescing, REQUESTS[name])
    assert ours == exchange(plain, REQUESTS[name])
    assert ours.startswith(b"HTTP/1.1 ")


def test_expect_100_continue_is_answered_before_the_body_is_sent(
    plain: tuple[str, int], coalescing: tuple[str, int]
) -> None:
    answers = []
    for address in (plain, coalescing):
        with socket.create_connection(address, timeout=10) as sock:
            sock.sendall(
                b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                b"Expect: 100-continue\r\nConnection: close\r\n\r\n"
            )
            assert sock.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"
            sock.sendall(b"body")
            answers.append(
                re.sub(rb"date: [^\r]*", b"", b"".join(iter(lambda: sock.recv(65536), b"")))
            )
    assert answers[0] == answers[1]
    assert answers[1].endswith(b'{"path": "/up", "received": 4}')


def test_a_streamed_head_leaves_before_its_body_exists(coalescing: tuple[str, int]) -> None:
    RELEASE.clear()
    with socket.create_connection(coalescing, timeout=10) as sock:
        sock.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:  # the body is not produced until RELEASE is set
            head += sock.recv(65536)
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        RELEASE.set()
        rest = b"".join(iter(lambda: sock.recv(65536), b""))
    assert (head + rest).endswith(b"3\r\none\r\n3\r\ntwo\r\n0\r\n\r\n")


def test_the_cycle_uses_only_the_transport_members_coalescing_provides() -> None:
    """CoalescingTransport stands in for the transport of uvicorn 0.55's RequestResponseCycle:
    fail loudly if the cycle starts using another member of it."""
    used = set(re.findall(r"self\.transport\.(\w+)", inspect.getsource(RequestResponseCycle)))
    assert used == {"write", "close", "is_closing"}
    assert "transport" in RequestResponseCycle.__init__.__code__.co_names
