"""``GET /api/events``: Mailpit's WebSocket, driven like the ``mailpit-ws`` e2e suite does."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from mailsandbox.runner import RunningSandbox
from tests.sandbox.api.helpers import SUMMARY_KEYS, send, smtp_send
from tests.waiting import eventually

Frame = tuple[str, Any]
VERSION = "0.1.0"
MAILPIT_TYPES = {"new", "stats", "update", "delete", "truncate", "prune", "error"}


def ws_url(running: RunningSandbox) -> str:
    return running.url.replace("http://", "ws://", 1) + "/api/events"


class Events:
    """Frames received on a WebSocket, waited for by predicate (order is not assumed)."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.seen: list[Frame] = []

    def _next(self) -> Frame | None:
        """The next frame, or None if none came within a moment."""
        try:
            raw = self.connection.recv(timeout=0.1)
        except TimeoutError:
            return None
        assert isinstance(raw, str), "frames must be text"
        message = json.loads(raw)
        assert list(message) == ["Type", "Data"], message
        frame: Frame = (message["Type"], message["Data"])
        self.seen.append(frame)
        return frame

    def expect(self, *wanted: Callable[[Frame], bool], timeout: float = 5.0) -> list[Frame]:
        """Wait until each predicate matched its own frame, in any order (others are skipped).

        Returns the matching frames in the order of the predicates.
        """
        found: dict[int, Frame] = {}

        def all_found() -> bool:
            frame = self._next()
            for index, predicate in enumerate(wanted):
                if frame is not None and index not in found and predicate(frame):
                    found[index] = frame
                    break
            return len(found) == len(wanted)

        try:
            eventually(all_found, timeout=timeout)
        except AssertionError:
            raise AssertionError(f"expected frames not all seen; seen: {self.seen}") from None
        return [found[index] for index in range(len(wanted))]


def kind(name: str, data: Any = ...) -> Callable[[Frame], bool]:
    return lambda frame: frame[0] == name and (data is ... or frame[1] == data)


def stats(total: int, unread: int) -> Callable[[Frame], bool]:
    return kind("stats", {"Total": total, "Unread": unread, "Version": VERSION})


@pytest.fixture
def events(running: RunningSandbox) -> Iterator[Events]:
    with connect(ws_url(running), open_timeout=10) as connection:
        feed = Events(connection)
        feed.expect(stats(0, 0))  # sent on connect
        yield feed


def test_send_announces_new_with_exact_keys_and_stats(
    running: RunningSandbox, api: httpx.Client, events: Events
) -> None:
    smtp_send(running, b"Subject: bare\r\n\r\nno addresses at all\r\n", to=["env@example.com"])
    data = events.expect(kind("new"), stats(1, 1))[0][1]
    assert list(data) == SUMMARY_KEYS and data["Read"] is False and data["Subject"] == "bare"
    assert data["From"] == {"Name": "", "Address": ""}
    assert data["To"] == [] and data["Cc"] == [] and data["ReplyTo"] == []
    assert data["Bcc"] == [{"Name": "", "Address": "env@example.com"}]  # envelope-only rcpt
    mid = send(api, "via api")
    found = events.expect(kind("new"), stats(2, 2))
    assert found[0][1]["ID"] == mid and found[0][1]["Cc"] == []


def test_read_tags_and_deletes_are_announced(api: httpx.Client, events: Events) -> None:
    first, second, third = (send(api, f"m{n}") for n in range(3))
    events.expect(kind("new"), kind("new"), kind("new"), stats(3, 3))
    assert api.put("/api/v1/messages", json={"IDs": [first], "Read": True}).text == "ok"
    events.expect(kind("update", {"ID": first, "Read": True}), stats(3, 2))
    assert api.put("/api/v1/messages", json={"IDs": [first], "Read": False}).text == "ok"
    events.expect(kind("update", {"ID": first, "Read": False}), stats(3, 3))
    assert api.put("/api/v1/tags", json={"IDs": [first], "Tags": ["test-tag"]}).text == "ok"
    events.expect(kind("update", {"ID": first, "Tags": ["test-tag"]}))
    assert api.delete("/api/v1/search", params={"query": "subject:m1"}).text == "ok"
    events.expect(kind("delete", {"ID": second}), stats(2, 2))
    response = api.request("DELETE", "/api/v1/messages", json={"IDs": [third]})
    assert response.text == "ok"
    events.expect(kind("delete", {"ID": third}), stats(1, 1))
    assert api.delete("/api/v1/messages").text == "ok"
    events.expect(kind("truncate", None), stats(0, 0))
    assert {f[0] for f in events.seen} <= MAILPIT_TYPES  # no delivery ``event`` frames


def test_stats_are_debounced_and_client_messages_ignored(
    running: RunningSandbox, api: httpx.Client, events: Events
) -> None:
    events.connection.send("hello")  # ignored, the connection stays open
    events.connection.send(b"\x00\x01")
    for n in range(5):
        send(api, f"burst {n}")
    events.expect(*(kind("new") for _ in range(5)), stats(5, 5))
    assert sum(1 for f in events.seen if f[0] == "stats") <= 3  # connect + at most 1 per 250 ms
    smtp_send(running, b"Subject: later\r\n\r\nx\r\n")
    events.expect(kind("new"), stats(6, 6))


def test_only_our_own_or_no_origin_is_accepted(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    # Cross-site WebSocket hijacking: a page on any other site (another port of localhost
    # included) must not read mail live. Node and Python clients send no Origin.
    running = sandbox_factory(allow_origin=["http://localhost:3000"])
    for origin in ("http://elsewhere.example", "http://127.0.0.1:1", "null"):
        with (
            pytest.raises(InvalidStatus) as refused,
            connect(ws_url(running), origin=Origin(origin), open_timeout=10),
        ):
            pass
        assert refused.value.response.status_code == 403, origin
    cross_site = {"Sec-Fetch-Site": "cross-site"}
    with pytest.raises(InvalidStatus), connect(ws_url(running), additional_headers=cross_site):
        pass
    for accepted in (running.url, "http://localhost:3000", None):
        origin = Origin(accepted) if accepted else None
        with connect(ws_url(running), origin=origin, open_timeout=10) as connection:
            assert Events(connection).expect(kind("stats"))


def test_basic_auth_is_required_when_ui_auth_is_set(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    running = sandbox_factory(ui_auth="u:p")
    url = ws_url(running)
    for headers in ({}, {"Authorization": "Basic " + base64.b64encode(b"u:wrong").decode()}):
        with (
            pytest.raises(InvalidStatus) as refused,
            connect(url, additional_headers=headers, open_timeout=10),
        ):
            pass
        assert refused.value.response.status_code == 401
        assert refused.value.response.headers["WWW-Authenticate"] == 'Basic realm="Login"'
    good = {"Authorization": "Basic " + base64.b64encode(b"u:p").decode()}
    with connect(url, additional_headers=good, open_timeout=10) as connection:
        assert Events(connection).expect(stats(0, 0))
