"""HTTP read timeouts and the connection cap, with raw sockets (slowloris and friends).

The sandboxes here use short limits (1-2 s) so the tests stay quick; the defaults (10 s for
headers, 30 s of body stall, 500 connections) only change the numbers.
"""

from __future__ import annotations

import contextlib
import json
import resource
import socket
import time
from collections.abc import Callable, Iterator

import httptools
import httpx
import pytest
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from websockets.sync.client import connect as ws_connect

from mailsandbox.http_limits import MAX_HEAD, LimitedProtocol
from mailsandbox.runner import RunningSandbox
from tests.waiting import eventually

Factory = Callable[..., RunningSandbox]
HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 1.5
PACE = 0.2  # how often the slow clients below send a piece (they are slow on purpose)


@pytest.fixture
def limited(sandbox_factory: Factory) -> RunningSandbox:
    return sandbox_factory(
        http_header_timeout=HEADER_TIMEOUT, http_body_timeout=BODY_TIMEOUT, http_max_connections=20
    )


@pytest.fixture
def connect(limited: RunningSandbox) -> Iterator[Callable[[], socket.socket]]:
    opened: list[socket.socket] = []

    def open_socket() -> socket.socket:
        sock = socket.create_connection((limited.http_host, limited.http_port), timeout=10)
        opened.append(sock)
        return sock

    yield open_socket
    for sock in opened:
        sock.close()


def closed_by_server(sock: socket.socket) -> bytes:
    """Read until the server closes the connection; returns what it sent before."""
    received = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk


def test_a_connection_that_sends_nothing_is_closed(connect: Callable[[], socket.socket]) -> None:
    started = time.monotonic()  # (before connecting: the server's timer starts at its accept,
    sock = connect()  # which can come before connect() returns here)
    assert closed_by_server(sock) == b""
    assert HEADER_TIMEOUT <= time.monotonic() - started < HEADER_TIMEOUT + 5


def test_slowloris_headers_are_cut_at_the_deadline(connect: Callable[[], socket.socket]) -> None:
    """Headers trickled one line at a time never complete: the deadline counts from the start,
    not from the last byte."""
    sock = connect()
    sock.settimeout(PACE)
    sock.sendall(b"GET /api/v1/messages HTTP/1.1\r\nHost: localhost\r\n")
    started = time.monotonic()
    for n in range(int(10 / PACE)):  # at most 10 s of trickling
        try:
            sock.sendall(b"X-Slow-%d: 1\r\n" % n)
            if sock.recv(1) == b"":  # waits PACE for the server's answer: the pace of the client
                break
        except TimeoutError:
            continue
        except OSError:
            break
    elapsed = time.monotonic() - started
    assert HEADER_TIMEOUT - PACE <= elapsed < HEADER_TIMEOUT + 3, elapsed


def test_a_stalled_body_is_cut_but_a_slow_upload_completes(
    connect: Callable[[], socket.socket], limited: RunningSandbox
) -> None:
    head = (
        b"POST /api/v1/send HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n"
    )
    stalled = connect()
    started = time.monotonic()  # (before sending: the server's timer starts when it reads)
    stalled.sendall(head % 100 + b'{"From":')
    assert b"200 OK" not in closed_by_server(stalled)
    assert BODY_TIMEOUT <= time.monotonic() - started < BODY_TIMEOUT + 5

    body = json.dumps(
        {
            "From": {"Email": "slow@example.com"},
            "To": [{"Email": "b@example.com"}],
            "Subject": "slow upload",
            "Text": "x" * 800,
        }
    ).encode()
    slow = connect()
    slow.sendall(head % len(body))
    started = time.monotonic()
    pieces = [body[i : i + 40] for i in range(0, len(body), 40)]
    for piece in pieces:  # the whole upload takes longer than the stall limit, but keeps moving
        slow.sendall(piece)
        time.sleep(PACE)  # the pace of a slow client, not a wait for a condition
    assert time.monotonic() - started > BODY_TIMEOUT * 2
    slow.settimeout(10)
    assert slow.recv(65536).startswith(b"HTTP/1.1 200 OK")
    assert limited.sandbox.db.read_sync(lambda conn: conn.execute(
        "SELECT subject FROM messages").fetchall())[0][0] == "slow upload"  # fmt: skip


def test_keep_alive_requests_are_served_and_idle_ones_expire(
    connect: Callable[[], socket.socket],
) -> None:
    sock = connect()
    for _ in range(3):
        sock.sendall(b"GET /livez HTTP/1.1\r\nHost: localhost\r\n\r\n")
        sock.settimeout(10)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 OK")
    # a later request trickled slowly on the same connection has its own header deadline
    sock.sendall(b"GET /livez HTTP/1.1\r\n")
    started = time.monotonic()
    assert closed_by_server(sock) == b""
    assert time.monotonic() - started < HEADER_TIMEOUT + 5


def test_a_websocket_outlives_both_deadlines(limited: RunningSandbox) -> None:
    """The upgrade cancels the read deadlines: the WebSocket's own pings keep it open."""
    url = limited.url.replace("http://", "ws://", 1) + "/api/events"
    with ws_connect(url, open_timeout=10) as connection:
        assert json.loads(connection.recv(timeout=10))["Type"] == "stats"  # sent on connect
        with pytest.raises(TimeoutError):  # (a close would raise ConnectionClosed instead)
            connection.recv(timeout=HEADER_TIMEOUT + BODY_TIMEOUT + 0.5)
        with httpx.Client(base_url=limited.url, timeout=10) as api:
            body = {"From": {"Email": "a@example.com"}, "To": [{"Email": "b@example.com"}]}
            assert api.post("/api/v1/send", json={**body, "Subject": "late"}).status_code == 200
        assert json.loads(connection.recv(timeout=10))["Type"] == "new"


def test_connections_above_the_cap_are_closed(sandbox_factory: Factory) -> None:
    running = sandbox_factory(http_max_connections=20, http_header_timeout=5)
    address = (running.http_host, running.http_port)
    held = [socket.create_connection(address, timeout=10) for _ in range(20)]
    try:
        eventually(lambda: len(running.server.server_state.connections) == 20)
        with socket.create_connection(address, timeout=10) as extra:
            started = time.monotonic()
            assert closed_by_server(extra) == b""
            assert time.monotonic() - started < 2  # at once, not at the 5 s header deadline
        held.pop().close()
        eventually(lambda: len(running.server.server_state.connections) == 19)
        with socket.create_connection(address, timeout=10) as room_again:
            room_again.sendall(b"GET /livez HTTP/1.1\r\nHost: localhost\r\n\r\n")
            assert room_again.recv(65536).startswith(b"HTTP/1.1 200 OK")
    finally:
        for sock in held:
            sock.close()


async def count_connections(running: RunningSandbox) -> int:
    """The open connections, counted on the server's own loop (a consistent snapshot)."""
    return len(running.server.server_state.connections)


def test_a_thousand_half_sent_requests_do_not_pile_up(sandbox_factory: Factory) -> None:
    """The issue's reproduction: 1,000 half-sent requests held 1,033 fds for a minute."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # client and server share this process
    if soft < 4096 <= hard or hard == resource.RLIM_INFINITY:
        resource.setrlimit(resource.RLIMIT_NOFILE, (4096, hard))
    running = sandbox_factory(http_header_timeout=HEADER_TIMEOUT)
    socks = []
    try:
        for _ in range(1000):
            try:
                sock = socket.create_connection((running.http_host, running.http_port), timeout=10)
            except OSError:
                break
            socks.append(sock)
            with contextlib.suppress(OSError):
                sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
        assert running.call(count_connections(running)) <= 500  # the default cap
        eventually(
            lambda: len(running.server.server_state.connections) == 0,
            timeout=HEADER_TIMEOUT + 10,
        )
        with socket.create_connection((running.http_host, running.http_port), timeout=10) as ok:
            ok.sendall(b"GET /livez HTTP/1.1\r\nHost: localhost\r\n\r\n")
            assert ok.recv(65536).startswith(b"HTTP/1.1 200 OK")
    finally:
        for sock in socks:
            sock.close()


def test_a_request_head_over_the_limit_gets_400_but_a_large_complete_one_is_served(
    connect: Callable[[], socket.socket],
) -> None:
    """llhttp buffers an unfinished header without bound: 16 KiB of incomplete head is a 400
    (h11's limit); a larger head that arrives complete in one piece is served, as with h11."""
    big = connect()
    big.sendall(b"GET /livez HTTP/1.1\r\nHost: localhost\r\nX-Long: " + b"a" * MAX_HEAD)
    answer = closed_by_server(big)
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert answer.endswith(b"\r\n\r\nInvalid HTTP request received.")

    whole = connect()
    whole.sendall(b"GET /livez HTTP/1.1\r\nHost: localhost\r\nX-Long: %s\r\n\r\n" % (b"a" * 20000))
    assert whole.recv(65536).startswith(b"HTTP/1.1 200 OK")


def test_the_uvicorn_members_the_limits_rely_on_exist() -> None:
    """LimitedProtocol extends uvicorn's HttpToolsProtocol (written for uvicorn 0.55): fail
    loudly if an upgrade renames what it overrides or reads."""
    for name in (
        "connection_made",
        "data_received",
        "on_message_begin",
        "on_headers_complete",
        "on_message_complete",
        "on_response_complete",
        "handle_websocket_upgrade",
        "connection_lost",
    ):
        assert callable(getattr(HttpToolsProtocol, name)), name
        assert name in LimitedProtocol.__dict__, name
    assert callable(HttpToolsProtocol.send_400_response)
    init = HttpToolsProtocol.__init__.__code__.co_names
    for attribute in ("flow", "transport", "connections", "loop", "client"):
        assert attribute in init, attribute
    assert "read_paused" in FlowControl.__init__.__code__.co_names
    # the parser calls these back by name (uvicorn passes the protocol to it)
    # each request's cycle calls back the protocol's on_response_complete, ours included
    assert "on_response_complete" in HttpToolsProtocol.on_headers_complete.__code__.co_names
    assert httptools.HttpRequestParser and httptools.HttpParserError
