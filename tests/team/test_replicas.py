"""Several replicas on one PostgreSQL database behave as one sandbox (issue 18): mail accepted
by one is listed, found and pushed live by the others within a second; each webhook is posted
and each scheduled event step applied by exactly one replica; a replica killed with kill -9
loses nothing it acknowledged and leaves its work to the others; housekeeping runs on one
replica at a time; replicas starting together on an empty database migrate it once."""

from __future__ import annotations

import contextlib
import json
import queue
import smtplib
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from mailsandbox.events.dispatcher import DELIVERY_ID_HEADER, PER_URL
from tests.sandbox.events.receiver import Received, Receiver
from tests.sandbox.serve_process import ServeProcess, wait_ready
from tests.team.conftest import Replicas
from tests.waiting import eventually

LIVE = 1.0  # seconds within which a change made on one replica reaches the others


def _send(replica: ServeProcess, subject: str) -> None:
    with smtplib.SMTP("127.0.0.1", replica.smtp_port, timeout=30) as client:
        client.sendmail(
            "app@example.com", ["user@example.com"], f"Subject: {subject}\r\n\r\nHi\r\n"
        )


def _subjects(replica: ServeProcess) -> set[str]:
    found = httpx.get(f"{replica.url}/api/v1/messages?limit=1000", timeout=10).json()
    return {m["Subject"] for m in found["messages"]}


class Frames:
    """What a live feed of a replica pushed, collected by a thread: WebSocket or SSE."""

    def __init__(self) -> None:
        self.frames: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        self.seen: list[tuple[float, dict[str, Any]]] = []

    def first(self, kind: str, key: str, value: str, timeout: float = 10.0) -> float:
        """When the first frame ``kind`` whose data has ``key`` = ``value`` arrived."""
        return self.first_where(kind, lambda data: data[key] == value, timeout)

    def first_where(self, kind: str, test: Callable[[Any], bool], timeout: float = 10.0) -> float:
        """When the first frame ``kind`` whose data passes ``test`` arrived."""

        def arrived() -> float:
            self.kinds()
            found = [at for at, f in self.seen if f["Type"] == kind and test(f["Data"])]
            assert found, f"no such {kind} pushed yet: {self.seen}"
            return found[0]

        return eventually(arrived, timeout=timeout)

    def kinds(self) -> list[str]:
        """The types of the frames pushed so far."""
        while not self.frames.empty():
            self.seen.append(self.frames.get_nowait())
        return [frame["Type"] for _, frame in self.seen]


def _ui_arrived(data: dict[str, Any], subject: str) -> bool:
    """Whether a UI live feed's ``new`` frame announces mail with ``subject``."""
    return any(m["Subject"] == subject for m in data["Messages"])


@contextlib.contextmanager
def _websocket(replica: ServeProcess, frames: Frames) -> Iterator[ClientConnection]:
    with connect(f"ws://127.0.0.1:{replica.http_port}/api/events") as socket:

        def read() -> None:
            with contextlib.suppress(ConnectionClosed):  # (closed at the end)
                for text in socket:
                    frames.frames.put((time.monotonic(), json.loads(text)))

        threading.Thread(target=read, daemon=True).start()
        yield socket


def _sse(replica: ServeProcess, path: str, frames: Frames, stop: threading.Event) -> None:
    with (
        contextlib.suppress(httpx.HTTPError),  # (the replica stopped at the end)
        httpx.Client(timeout=None) as client,
        client.stream("GET", replica.url + path) as response,
    ):
        kind = ""
        for line in response.iter_lines():
            if stop.is_set():
                return
            if line.startswith("retry: "):  # (the UI's feed says so once subscribed)
                frames.frames.put((time.monotonic(), {"Type": "open", "Data": None}))
            elif line.startswith("event: "):
                kind = line[len("event: ") :]
            elif line.startswith("data: "):
                data: Any = line[6:]  # JSON, or a bare id (the UI feed's ``delivery``)
                with contextlib.suppress(ValueError):
                    data = json.loads(data)
                frames.frames.put((time.monotonic(), {"Type": kind, "Data": data}))


def test_mail_accepted_by_one_replica_is_listed_found_and_pushed_live_by_the_other(
    replicas: Replicas,
) -> None:
    a, b = replicas.start(), replicas.start()
    on_b_ws, on_b_sse, on_b_ui, on_a_ws = Frames(), Frames(), Frames(), Frames()
    stop = threading.Event()
    for path, frames in (("/api/v1/stream", on_b_sse), ("/ui/events", on_b_ui)):
        threading.Thread(target=_sse, args=(b, path, frames, stop), daemon=True).start()
    with (
        _websocket(b, on_b_ws),
        _websocket(a, on_a_ws),
    ):
        # The feeds are subscribed once they pushed something: the counts (Mailpit's feeds),
        # a retry delay (the UI's). Then a first message, through A.
        for frames in (on_b_ws, on_b_sse, on_b_ui, on_a_ws):
            eventually(frames.kinds, what="the feed is subscribed")
        _send(a, "warm-up")
        for frames in (on_b_ws, on_b_sse, on_a_ws):
            frames.first("new", "Subject", "warm-up")
        on_b_ui.first_where("new", lambda data: _ui_arrived(data, "warm-up"))
        waited: queue.Queue[tuple[float, httpx.Response]] = queue.Queue()

        def wait_on_b() -> None:
            response = httpx.get(
                f"{b.url}/api/v1/wait", params={"query": "subject:team-live", "timeout": 10},
                timeout=15,
            )  # fmt: skip
            waited.put((time.monotonic(), response))

        waiter = threading.Thread(target=wait_on_b)
        waiter.start()  # (were it not waiting yet, it would find the message at once)
        _send(a, "team-live")
        accepted = time.monotonic()  # (the 250 of replica A)
        assert on_b_ws.first("new", "Subject", "team-live") - accepted < LIVE
        assert on_b_sse.first("new", "Subject", "team-live") - accepted < LIVE
        ui = on_b_ui.first_where("new", lambda data: _ui_arrived(data, "team-live"))
        assert ui - accepted < LIVE  # (the UI's feed coalesces bursts: 50 ms)
        waiter.join(15)
        answered, response = waited.get_nowait()
        assert response.status_code == 200 and response.json()["Subject"] == "team-live"
        assert answered - accepted < LIVE
        # Listed and found on B, with counts that include it, at once.
        listed = httpx.get(f"{b.url}/api/v1/messages").json()
        assert listed["total"] == 2 and listed["unread"] == 2
        found = httpx.get(f"{b.url}/api/v1/search", params={"query": "team-live"}).json()
        assert [m["Subject"] for m in found["messages"]] == ["team-live"]
        message_id = found["messages"][0]["ID"]
        # Changes made on B reach A's feed: read status, tags, deletion.
        httpx.put(f"{b.url}/api/v1/messages", json={"IDs": [message_id], "Read": True})
        changed = time.monotonic()
        assert on_a_ws.first("update", "ID", message_id) - changed < LIVE
        assert httpx.get(f"{a.url}/api/v1/messages").json()["unread"] == 1
        httpx.request("DELETE", f"{b.url}/api/v1/messages", json={"IDs": [message_id]})
        deleted = time.monotonic()
        assert on_a_ws.first("delete", "ID", message_id) - deleted < LIVE
        assert _subjects(a) == {"warm-up"}
    stop.set()


def test_two_replicas_starting_together_on_an_empty_database_both_serve_it(
    empty_replicas: Replicas, replicas: Replicas
) -> None:
    a, b = empty_replicas.launch(), empty_replicas.launch()  # at once: one migrates
    for replica in (a, b):
        wait_ready(replica)
    applied = [row[0] for row in empty_replicas.query("SELECT id FROM schema_migrations")]
    expected = [row[0] for row in replicas.query("SELECT id FROM schema_migrations")]
    assert sorted(applied) == sorted(expected)  # every migration, once (the template's set)
    for replica in (a, b):
        assert "Traceback" not in replica.stderr()
    _send(a, "to a")
    _send(b, "to b")
    for replica in (a, b):
        eventually(lambda r=replica: _subjects(r) == {"to a", "to b"})  # type: ignore[misc]


def _burst(replica: ServeProcess, subjects: list[str], acked: list[str]) -> None:
    """Send ``subjects`` over one connection, noting each one acknowledged (250), until done
    or the replica is killed."""
    try:
        with smtplib.SMTP("127.0.0.1", replica.smtp_port, timeout=30) as client:
            for subject in subjects:
                client.sendmail(
                    "app@example.com", ["user@example.com"], f"Subject: {subject}\r\n\r\nHi\r\n"
                )
                acked.append(subject)
    except (OSError, smtplib.SMTPException):
        return  # killed under us


def _bursts(targets: list[ServeProcess], count: int, acked: list[str]) -> list[threading.Thread]:
    """``count`` messages, two connections per replica of ``targets``, sent by threads."""
    lanes = [r for r in targets for _ in range(2)]
    threads = [
        threading.Thread(
            target=_burst, args=(r, [f"m{n}" for n in range(i, count, len(lanes))], acked)
        )
        for i, r in enumerate(lanes)
    ]
    for thread in threads:
        thread.start()
    return threads


def _whole(requests: list[Received]) -> list[Received]:
    """The POSTs that arrived whole (one cut off by a kill may lack its body)."""
    whole = []
    for request in requests:
        with contextlib.suppress(ValueError):
            json.loads(request.body)
            whole.append(request)
    return whole


def _nothing_pending(replicas: Replicas) -> bool:
    return not replicas.query("SELECT 1 FROM webhook_outbox WHERE status != 'delivered'")


def test_each_webhook_is_posted_and_each_step_applied_by_exactly_one_of_three_replicas(
    replicas: Replicas,
) -> None:
    count = 200
    with Receiver() as receiver:
        team = [replicas.start("--webhook-url", receiver.url + "/hook") for _ in range(3)]
        acked: list[str] = []
        for thread in _bursts(team, count, acked):
            thread.join(60)
        assert len(acked) == count
        eventually(lambda: len(receiver.requests) >= count, timeout=30)
        eventually(lambda: _nothing_pending(replicas), timeout=30)
        # Every message's delivery step was applied, once (the default plan: delivered).
        eventually(lambda: not replicas.query("SELECT 1 FROM event_schedule"), timeout=30)
        delivered = replicas.query(
            "SELECT message_id, COUNT(*) FROM events WHERE type = 'delivered' GROUP BY message_id"
        )
        assert len(delivered) == count and {n for _, n in delivered} == {1}
        posts = list(receiver.requests)
    stored = {row[0] for row in replicas.query("SELECT id FROM messages")}
    assert {p.json()["ID"] for p in posts} == stored and len(stored) == count
    by_delivery = Counter(p.headers[DELIVERY_ID_HEADER] for p in posts)
    assert len(by_delivery) == count and set(by_delivery.values()) == {1}  # each POSTed once
    # One attempt logged per row: no replica posted a row another one had claimed.
    attempts = replicas.query("SELECT COUNT(*) FROM webhook_attempts")
    assert attempts == [(count,)]
    for replica in team:  # (no claim, notification or lead that failed on the way)
        assert "pg_coordination" not in replica.stderr()
        assert "Traceback" not in replica.stderr()


def test_kill_9_of_a_replica_during_an_smtp_burst_loses_no_acknowledged_message(
    replicas: Replicas,
) -> None:
    a, b = replicas.start(), replicas.start()
    acked: list[str] = []
    threads = _bursts([a, b], 400, acked)
    eventually(lambda: replicas.query("SELECT COUNT(*) FROM messages")[0][0] >= 100, timeout=30)
    a.proc.kill()  # SIGKILL, mid-burst
    a.proc.wait(10)
    for thread in threads:
        thread.join(60)
    stored = {row[0] for row in replicas.query("SELECT subject FROM messages")}
    assert set(acked) <= stored  # every 250 is in the database
    assert len(acked) < 400  # (the kill did cut A's connections short)
    # B served on: what it accepted is listed, and it takes new mail.
    _send(b, "after the kill")
    assert "after the kill" in _subjects(b)


def test_kill_9_of_a_replica_mid_delivery_leaves_its_webhooks_to_the_other(
    replicas: Replicas,
) -> None:
    count = 150
    with Receiver(delay=0.02) as receiver:  # an endpoint answering in 20 ms: a backlog builds
        hook = ("--webhook-url", receiver.url + "/hook")
        a, b = replicas.start(*hook), replicas.start(*hook)
        acked: list[str] = []
        for thread in _bursts([b], count, acked):  # B accepts all, and is woken to send them
            thread.join(60)
        assert len(acked) == count
        eventually(lambda: len(receiver.requests) >= count // 4, timeout=30)
        b.proc.kill()  # SIGKILL, in the middle of its deliveries
        b.proc.wait(10)
        sent_before = len(receiver.requests)
        assert sent_before < count  # (it was cut off mid-delivery)
        # A finds the rows B left pending (B's claims ended with its session) and sends them.
        eventually(lambda: _nothing_pending(replicas), timeout=30)
        posts = _whole(receiver.requests)
    stored = {row[0] for row in replicas.query("SELECT id FROM messages")}
    assert {p.json()["ID"] for p in posts} == stored and len(stored) == count  # none lost
    resent = [d for d, n in Counter(p.headers[DELIVERY_ID_HEADER] for p in posts).items() if n > 1]
    # Re-sent: only what B had posted without recording the answer yet, as after a kill -9
    # on SQLite (PER_URL POSTs at most).
    assert len(resent) <= PER_URL, resent
    assert "Traceback" not in a.stderr()


def _pruned(replica: ServeProcess) -> int:
    """How many messages ``replica`` itself deleted (Mailpit's MessagesDeleted)."""
    info = httpx.get(f"{replica.url}/api/v1/info", timeout=10).json()
    return int(info["RuntimeStats"]["MessagesDeleted"])


def _count(replicas: Replicas) -> int:
    return int(replicas.query("SELECT COUNT(*) FROM messages")[0][0])


def test_retention_runs_on_the_lead_replica_and_another_takes_over_when_it_dies(
    replicas: Replicas,
) -> None:
    keep = ("--max-messages", "5")
    a = replicas.start(*keep)
    for n in range(10):
        _send(a, f"a{n}")
    eventually(lambda: _count(replicas) == 5)  # alone, A leads
    b = replicas.start(*keep)
    for n in range(10):
        _send(b, f"b{n}")
    eventually(lambda: _count(replicas) == 5)
    assert (_pruned(a), _pruned(b)) == (15, 0)  # B's mail too was pruned by A, the lead
    a.proc.kill()  # the lead dies: its session, and its lead, end
    a.proc.wait(10)
    for n in range(10):
        _send(b, f"c{n}")
    eventually(lambda: _count(replicas) == 5)
    assert _pruned(b) == 10
    assert _subjects(b) == {f"c{n}" for n in range(5, 10)}


def _inboxes_of_rules(replica: ServeProcess) -> list[str]:
    """The inboxes the inbox rules in force on ``replica`` put mail in."""
    rules = httpx.get(f"{replica.url}/api/v1/inbox-rules", timeout=10).json()["rules"]
    return [str(r["Inbox"]) for r in rules]


def test_settings_kept_in_memory_reload_when_another_replica_changes_them(
    replicas: Replicas,
) -> None:
    a, b = replicas.start(), replicas.start()
    # An inbox rule added on A routes the mail B accepts.
    rule = httpx.post(f"{a.url}/api/v1/inbox-rules", json={"Rule": "to:*@billing.test=billing"})
    assert rule.status_code == 200

    eventually(lambda: _inboxes_of_rules(b) == ["billing"], timeout=LIVE)
    with smtplib.SMTP("127.0.0.1", b.smtp_port, timeout=30) as client:
        client.sendmail("app@example.com", ["ann@billing.test"], "Subject: invoice\r\n\r\nHi\r\n")
    assert httpx.get(f"{a.url}/api/v1/inboxes").json()["inboxes"][0]["Name"] == "billing"
    # An event rule added on B decides the outcome of mail A accepts.
    bounce = {"recipient": "*@bounce.test", "outcome": "bounced"}
    assert httpx.post(f"{b.url}/api/v1/rules", json=bounce).status_code == 200
    eventually(lambda: len(httpx.get(f"{a.url}/api/v1/rules").json()["rules"]) == 1, timeout=LIVE)
    with smtplib.SMTP("127.0.0.1", a.smtp_port, timeout=30) as client:
        client.sendmail("app@example.com", ["joe@bounce.test"], "Subject: gone\r\n\r\nHi\r\n")
    eventually(
        lambda: replicas.query("SELECT 1 FROM events WHERE type = 'bounced'"), what="a bounce"
    )
    # A Postmark message stream created on A is known to B's send path.
    postmark = {"X-Postmark-Server-Token": "token", "Accept": "application/json"}
    stream = {"ID": "news", "Name": "News", "MessageStreamType": "Broadcasts"}
    made = httpx.post(f"{a.url}/message-streams", json=stream, headers=postmark)
    assert made.status_code == 200, made.text

    def b_knows_it() -> bool:
        return httpx.get(f"{b.url}/message-streams/news", headers=postmark).status_code == 200

    eventually(b_knows_it, timeout=LIVE)


def test_a_replica_that_lost_its_listener_connection_resynchronises(replicas: Replicas) -> None:
    a, b = replicas.start(), replicas.start()
    on_b = Frames()
    with _websocket(b, on_b):
        _send(a, "warm-up")
        on_b.first("new", "Subject", "warm-up")
        # The server cuts every replica's LISTEN connection; a change made right then is
        # not heard by B, which reconnects, then reloads what it keeps and tells its pages.
        cut = replicas.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE query = 'LISTEN mailsandbox_changes'"
        )
        assert len(cut) == 2
        rule = {"Rule": "to:*@billing.test=billing"}
        assert httpx.post(f"{a.url}/api/v1/inbox-rules", json=rule).status_code == 200
        eventually(lambda: "prune" in on_b.kinds(), what="B told its pages to reload")
        eventually(lambda: _inboxes_of_rules(b) == ["billing"], timeout=LIVE)
        # And B hears A's changes live again.
        _send(a, "after")
        sent = time.monotonic()
        assert on_b.first("new", "Subject", "after") - sent < LIVE
