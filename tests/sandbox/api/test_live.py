"""``/api/v1/wait`` (long-poll) and ``/api/v1/stream`` (server-sent events)."""

from __future__ import annotations

import json
import smtplib
import threading
import time
from collections.abc import Iterator

import httpx

from mailsandbox.api.changes import PRUNE_THRESHOLD
from mailsandbox.runner import RunningSandbox
from tests.sandbox.api.helpers import SUMMARY_KEYS, error_of, send
from tests.waiting import eventually


def test_wait_returns_a_message_that_arrives_while_it_waits(
    api: httpx.Client, running: RunningSandbox
) -> None:
    send(api, "unrelated")
    listening = running.sandbox.bus.subscriber_count
    result: list[httpx.Response] = []
    waiter = threading.Thread(
        target=lambda: result.append(
            api.get("/api/v1/wait", params={"query": "subject:code", "timeout": 10})
        )
    )
    waiter.start()
    eventually(lambda: running.sandbox.bus.subscriber_count > listening, what="wait is pending")
    assert not result, "it must wait: no message matched yet"
    send(api, "Your code is 1234")
    waiter.join(15)
    (response,) = result
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == SUMMARY_KEYS and body["Subject"] == "Your code is 1234"


def test_wait_returns_an_existing_match_at_once(api: httpx.Client) -> None:
    mid = send(api, "already here")
    started = time.monotonic()
    response = api.get("/api/v1/wait", params={"query": "already"})
    assert response.json()["ID"] == mid and time.monotonic() - started < 2
    assert api.get("/api/v1/wait").json()["ID"] == mid  # no query: the newest message


def test_wait_times_out_with_408(api: httpx.Client) -> None:
    send(api, "not it")
    started = time.monotonic()
    response = api.get("/api/v1/wait", params={"query": "subject:never", "timeout": "0.5"})
    assert "no message matching" in error_of(response, 408)
    assert 0.4 <= time.monotonic() - started < 5


def test_wait_rejects_bad_parameters(api: httpx.Client) -> None:
    for timeout in ("-1", "301", "abc", "nan"):
        assert api.get("/api/v1/wait", params={"timeout": timeout}).status_code == 400, timeout
    assert error_of(api.get("/api/v1/wait", params={"query": "x\x00"}), 400)


def _events(lines: Iterator[str]) -> Iterator[tuple[str, object]]:
    """Mailbox events from the stream (delivery ``event``s are the event engine's business)."""
    kind = ""
    for line in lines:
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: ") and kind != "event":
            yield kind, json.loads(line[6:])


def _until(
    events: Iterator[tuple[str, object]], *wanted: tuple[str, object]
) -> list[tuple[str, object]]:
    """Read until every ``wanted`` event was seen (any order); return the other non-stats ones."""
    missing = list(wanted)
    others = []
    while missing:
        event = next(events)
        if event in missing:
            missing.remove(event)
        elif event[0] != "stats":
            others.append(event)
    return others


def test_stream_sends_new_update_delete_and_stats(api: httpx.Client) -> None:
    base = str(api.base_url)
    with (
        httpx.Client(base_url=base, timeout=10) as client,
        client.stream("GET", "/api/v1/stream") as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        events = _events(response.iter_lines())
        assert next(events) == ("stats", {"Total": 0, "Unread": 0, "Version": "0.1.0"})
        mid = send(api, "streamed")
        kind, data = next(events)
        assert kind == "new" and isinstance(data, dict)
        assert list(data) == SUMMARY_KEYS and data["ID"] == mid and data["To"] != []
        assert data["Cc"] == []
        assert next(events) == ("stats", {"Total": 1, "Unread": 1, "Version": "0.1.0"})
        api.get(f"/api/v1/message/{mid}")
        assert next(events) == ("update", {"ID": mid, "Read": True})
        assert next(events)[0] == "stats"
        api.put("/api/v1/tags", json={"IDs": [mid], "Tags": ["t"]})
        assert next(events) == ("update", {"ID": mid, "Tags": ["t"]})
        assert next(events)[0] == "stats"
        api.request("DELETE", "/api/v1/messages", json={"IDs": [mid]})
        assert next(events) == ("delete", {"ID": mid})
        assert next(events)[0] == "stats"
        send(api)
        api.delete("/api/v1/messages")
        assert [next(events)[0] for _ in range(2)] == ["new", "truncate"]
        assert next(events) == ("stats", {"Total": 0, "Unread": 0, "Version": "0.1.0"})


def test_bulk_changes_are_one_prune_event(running: RunningSandbox, api: httpx.Client) -> None:
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=30) as smtp:
        for n in range(PRUNE_THRESHOLD + 1):
            smtp.sendmail("a@example.com", ["b@example.com"], f"Subject: bulk {n}\r\n\r\nx")
    with (
        httpx.Client(base_url=str(api.base_url), timeout=10) as client,
        client.stream("GET", "/api/v1/stream") as response,
    ):
        # SMTP answers 250 at commit and announces ``new`` once the message is searchable, so
        # announcements of the last messages may still be on their way; and a debounced
        # ``stats`` may be computed just before or just after the change's own event. What
        # must hold: one ``prune`` per bulk change, and no per-message update/delete events.
        events = (e for e in _events(response.iter_lines()) if e[0] != "new")
        read_all = {"Total": 201, "Unread": 0, "Version": "0.1.0"}
        api.put("/api/v1/messages", json={"Search": "subject:bulk", "Read": True})
        assert _until(events, ("prune", None), ("stats", read_all)) == []
        api.delete("/api/v1/search", params={"query": "bulk"})
        assert _until(events, ("prune", None)) == []
    assert api.get("/api/v1/messages").json()["total"] == 0
