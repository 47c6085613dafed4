"""Webhooks are delivered at least once, with duplicates rare and recognisable (issue 14): a
kill -9 in the middle of 400 deliveries loses none and re-sends at most the POSTs that were in
flight; every re-post of an event (a retry, a retry after a restart, a replay) carries the
same ids: ``Webhook-Id``, Mailgun's ``event-data.id``, SendGrid's ``sg_event_id``."""

from __future__ import annotations

import json
import smtplib
import sqlite3
import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import httpx

from mailsandbox.events.dispatcher import DELIVERY_ID_HEADER, PER_URL
from mailsandbox.runner import RunningSandbox
from tests.sandbox.events.receiver import Received, Receiver
from tests.sandbox.serve_process import ServeProcess, start_serve
from tests.waiting import eventually

MESSAGES = 400
CONNECTIONS = 8


def _send_share(server: ServeProcess, worker: int) -> None:
    """Send this worker's share of the messages until done or the server is killed."""
    try:
        with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as client:
            for n in range(worker, MESSAGES, CONNECTIONS):
                client.sendmail(
                    "app@example.com", ["user@example.com"], f"Subject: m{n}\r\n\r\nHi\r\n"
                )
    except (OSError, smtplib.SMTPException):
        return  # killed under us


def _complete(requests: list[Received]) -> list[Received]:
    """The POSTs that arrived whole (one cut off by the kill may arrive without its body)."""
    whole = []
    for request in requests:
        try:
            json.loads(request.body)
        except ValueError:
            continue
        whole.append(request)
    return whole


def test_kill_9_mid_delivery_loses_nothing_and_resends_at_most_the_posts_in_flight(
    tmp_path: Path,
) -> None:
    db = tmp_path / "webhooks.db"
    with Receiver(delay=0.005) as receiver:  # an endpoint answering in 5 ms: a backlog builds
        hook = ("--webhook-url", receiver.url + "/hook", "--max-messages", "0")
        server = start_serve(db, *hook)
        senders = [
            threading.Thread(target=_send_share, args=(server, n)) for n in range(CONNECTIONS)
        ]
        for sender in senders:
            sender.start()
        eventually(lambda: len(receiver.requests) >= MESSAGES // 2, timeout=60)
        server.proc.kill()  # SIGKILL, in the middle of the deliveries
        server.proc.wait(10)
        for sender in senders:
            sender.join(30)
        with sqlite3.connect(db) as conn:
            stored = {row[0] for row in conn.execute("SELECT id FROM messages")}
        restarted = start_serve(db, *hook)
        try:
            eventually(
                lambda: {r.json()["ID"] for r in _complete(receiver.requests)} >= stored,
                timeout=60,
            )
            # Whatever the restarted process had due was sent (nothing pending is left).
            with httpx.Client(base_url=restarted.url) as api:
                eventually(
                    lambda: "pending" not in api.get("/api/v1/webhooks/deliveries").json()["outbox"]
                )
        finally:
            restarted.stop()
    posts = _complete(receiver.requests)
    assert {r.json()["ID"] for r in posts} == stored  # none lost
    by_delivery: dict[str, set[str]] = defaultdict(set)
    for post in posts:
        by_delivery[post.headers[DELIVERY_ID_HEADER]].add(post.json()["ID"])
    assert all(len(ids) == 1 for ids in by_delivery.values())  # one id, one message
    assert len(by_delivery) == len(stored)  # and one id per message, on every re-post
    resent = [d for d, n in Counter(p.headers[DELIVERY_ID_HEADER] for p in posts).items() if n > 1]
    assert len(resent) <= PER_URL, resent  # only what was in flight at the kill


def _refused_retried_after_a_restart_and_replayed(
    sandbox_factory: Callable[..., RunningSandbox],
    receiver: Receiver,
    send: Callable[[str], None],
) -> None:
    """``send(url)`` makes one webhook: the endpoint refuses it twice, the sandbox restarts,
    its retry is accepted, then the delivery is replayed."""
    receiver.status = 500
    settings = {"webhook_retry_schedule": "0.2s"}
    first = sandbox_factory(**settings)
    send(first.url)
    receiver.wait_for(2, accepted=False)  # refused twice
    first.stop()
    receiver.status = 200
    second = sandbox_factory(**settings)  # the retry comes from the restarted process
    receiver.wait_for(1)
    with httpx.Client(base_url=second.url) as api:

        def accepted_delivery() -> str:
            deliveries = api.get("/api/v1/webhooks/deliveries").json()["deliveries"]
            return next((str(d["ID"]) for d in deliveries if d["OK"]), "")

        # The outcome is recorded once the receiver's answer is read: just after it saw the POST.
        delivered = eventually(accepted_delivery, what="the accepted delivery recorded")
        assert api.post(f"/api/v1/webhooks/deliveries/{delivered}/replay").status_code == 200
    receiver.wait_for(2)
    assert len(receiver.requests) >= 4  # two refused, the retry after the restart, the replay


def test_mailgun_retries_after_a_restart_and_replays_keep_the_ids(
    sandbox_factory: Callable[..., RunningSandbox], receiver: Receiver
) -> None:
    domain = "mg.example.com"

    def send(url: str) -> None:
        with httpx.Client(base_url=url, auth=("api", "key-x")) as mg:
            hook = {"id": "delivered", "url": receiver.url}
            mg.post(f"/v3/domains/{domain}/webhooks", data=hook).raise_for_status()
            message = {"from": "app@mg.example.com", "to": "bob@example.com", "text": "t"}
            mg.post(f"/v3/{domain}/messages", data=message).raise_for_status()

    _refused_retried_after_a_restart_and_replayed(sandbox_factory, receiver, send)
    posts = [(r.headers, r.json()) for r in receiver.requests]
    assert {body["event-data"]["event"] for _, body in posts} == {"delivered"}
    assert len({body["event-data"]["id"] for _, body in posts}) == 1
    assert len({headers[DELIVERY_ID_HEADER] for headers, _ in posts}) == 1
    tokens = {body["signature"]["token"] for _, body in posts}
    assert len(tokens) == len(posts)  # new on every POST, by design


def test_sendgrid_retries_after_a_restart_and_replays_keep_sg_event_id(
    sandbox_factory: Callable[..., RunningSandbox], receiver: Receiver
) -> None:
    def send(url: str) -> None:
        with httpx.Client(base_url=url, headers={"Authorization": "Bearer SG.x"}) as sg:
            hook = {"enabled": True, "url": receiver.url, "delivered": True}
            sg.patch("/v3/user/webhooks/event/settings", json=hook).raise_for_status()
            sg.post(
                "/v3/mail/send",
                json={
                    "personalizations": [{"to": [{"email": "bob@example.com"}]}],
                    "from": {"email": "app@example.com"},
                    "subject": "s",
                    "content": [{"type": "text/plain", "value": "t"}],
                },
            ).raise_for_status()

    _refused_retried_after_a_restart_and_replayed(sandbox_factory, receiver, send)
    events = [event for r in receiver.requests for event in r.json()]
    assert {event["event"] for event in events} == {"delivered"}
    assert len({event["sg_event_id"] for event in events}) == 1
