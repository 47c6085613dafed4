"""The Python client (sync and async) against a real sandbox: SMTP in, REST API out."""

from __future__ import annotations

import asyncio
import smtplib
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage

import httpx
import pytest

from mailsandbox.client import (
    AsyncClient,
    Client,
    Event,
    Message,
    MessageNotFound,
    WaitTimeout,
    build_query,
)
from mailsandbox.runner import RunningSandbox
from tests.waiting import eventually, eventually_async

HTML = (
    '<p>Welcome Ann!</p><p><a href="https://app.example/confirm?t=abc&amp;u=1">Confirm</a></p>'
    "<p>Your verification code is <b>418263</b>.</p>"
)


@pytest.fixture
def client(running: RunningSandbox) -> Iterator[Client]:
    with Client(running.url, smtp=(running.smtp_host, running.smtp_port)) as client:
        yield client


def signup_mail(to: str = "ann@example.com") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "app@example.com"
    msg["To"] = to
    msg["Subject"] = "Confirm your account"
    msg.set_content("Welcome Ann! Confirm: https://app.example/confirm?t=abc&u=1 code 418263")
    msg.add_alternative(HTML, subtype="html")
    msg.add_attachment(b"%PDF-1.4 terms", maintype="application", subtype="pdf", filename="t.pdf")
    return msg


def smtp_send(running: RunningSandbox, msg: EmailMessage, user: str | None = None) -> None:
    with smtplib.SMTP(running.smtp_host, running.smtp_port) as smtp:
        if user:
            smtp.login(user, "secret")
        smtp.send_message(msg)


def test_build_query_quotes_values_and_scopes_to_the_inbox() -> None:
    query = build_query(
        to="ann@example.com", subject="Your code", query="has:attachment", inbox="t1"
    )
    assert query == 'to:"ann@example.com" subject:"Your code" has:attachment inbox:"t1"'
    assert build_query() == ""


def test_wait_for_returns_the_whole_message(client: Client, running: RunningSandbox) -> None:
    smtp_send(running, signup_mail(), user="signup")
    inbox = client.inbox("signup")
    msg = inbox.wait_for(to="ann@example.com", subject="Confirm", timeout=5)

    assert msg.subject == "Confirm your account"
    assert str(msg.from_) == "app@example.com"
    assert msg.recipients == ["ann@example.com"]
    assert msg.username == "signup"
    assert "Welcome Ann" in msg.text and "<b>418263</b>" in msg.html
    assert [(a.filename, a.content_type, a.size) for a in msg.attachments] == [
        ("t.pdf", "application/pdf", 14)
    ]
    assert inbox.attachment(msg, msg.attachments[0].part_id) == b"%PDF-1.4 terms"
    assert inbox.headers(msg)["Subject"] == ["Confirm your account"]
    assert b"Subject: Confirm your account" in inbox.raw(msg)

    link = msg.links(containing="/confirm")[0]
    assert link == "https://app.example/confirm?t=abc&u=1"
    assert (link.text, link.part) == ("Confirm", "html")
    assert msg.codes() == ["418263"]
    assert inbox.links(msg) == msg.links()  # the server extracts the same
    assert "418263" in inbox.codes(msg)[0].context


def test_wait_for_blocks_until_the_message_arrives(client: Client, running: RunningSandbox) -> None:
    listening = running.sandbox.bus.subscriber_count
    found: list[Message] = []
    waiter = threading.Thread(
        target=lambda: found.append(client.inbox("w").wait_for(to="late@example.com", timeout=10))
    )
    waiter.start()
    eventually(lambda: running.sandbox.bus.subscriber_count > listening, what="wait_for waits")
    assert not found
    smtp_send(running, signup_mail("late@example.com"), "w")
    waiter.join(15)
    (msg,) = found
    assert msg.to[0].address == "late@example.com"


def test_wait_for_times_out_with_wait_timeout(client: Client) -> None:
    started = time.monotonic()
    with pytest.raises(WaitTimeout) as raised:
        client.inbox("nobody").wait_for(subject="never", timeout=0.3)
    assert raised.value.status == 408
    assert time.monotonic() - started < 3
    with pytest.raises(TimeoutError):  # WaitTimeout is a TimeoutError too
        client.wait_for(subject="never", timeout=0)


def test_inbox_views_are_isolated(client: Client, running: RunningSandbox) -> None:
    alpha, beta = client.inbox("alpha"), client.inbox("beta")
    alpha.send("ann@example.com", "For alpha", "one")
    beta.send("ann@example.com", "For beta", "two")
    beta.send("bob@example.com", "Also beta", "three")

    assert [m.subject for m in alpha.messages()] == ["For alpha"]
    assert [m.subject for m in beta.messages()] == ["Also beta", "For beta"]
    assert [m.subject for m in beta.search("to:ann")] == ["For beta"]
    assert alpha.wait_for(to="ann@example.com", timeout=1).subject == "For alpha"
    assert alpha.latest().subject == "For alpha"
    assert len(client.messages()) == 3  # the unbound client sees every inbox
    assert {(i.name, i.messages) for i in client.inboxes()} == {("alpha", 1), ("beta", 2)}

    beta.delete()  # a bound view deletes only its own mail
    assert beta.messages() == []
    assert [m.subject for m in client.messages()] == ["For alpha"]


def test_delete_listed_messages_and_unknown_message(client: Client) -> None:
    box = client.inbox("del")
    box.send("x@example.com", "one", "1")
    box.send("x@example.com", "two", "2")
    newest = box.messages()[0]
    box.delete(newest)
    assert [m.subject for m in box.messages()] == ["one"]
    with pytest.raises(MessageNotFound):
        box.get(newest.id)


def test_inboxes_endpoint_counts_unread(running: RunningSandbox, client: Client) -> None:
    client.inbox("counted").send("x@example.com", "hello", "1")
    client.inbox("counted").send("x@example.com", "again", "2")
    client.get(client.inbox("counted").messages()[0])  # opening marks it read
    body = httpx.get(f"{running.url}/api/v1/inboxes").json()
    assert [(i["Name"], i["Messages"], i["Unread"]) for i in body["inboxes"]] == [("counted", 2, 1)]


def test_trigger_records_an_event(client: Client, running: RunningSandbox) -> None:
    smtp_send(running, signup_mail("bob@example.com"), user="events")
    msg = client.inbox("events").wait_for(to="bob@example.com", timeout=5)
    event = client.trigger(msg, "bounced", recipient="bob@example.com", reason="mailbox full")
    assert isinstance(event, Event)
    assert (event.type, event.recipient, event.message_id) == ("bounced", "bob@example.com", msg.id)
    assert event.reason == "mailbox full"
    # (the simulated "delivered" may land before or after it: only the bounce is asserted)
    assert [e.id for e in client.events(msg) if e.type == "bounced"] == [event.id]


def test_async_client_end_to_end(running: RunningSandbox) -> None:
    async def scenario() -> None:
        smtp = (running.smtp_host, running.smtp_port)
        async with AsyncClient(running.url, smtp=smtp) as client:
            box = client.inbox("async")
            listening = running.sandbox.bus.subscriber_count
            waiter = asyncio.create_task(box.wait_for(subject="Async hello", timeout=10))
            await eventually_async(lambda: running.sandbox.bus.subscriber_count > listening)
            await box.send(
                "ann@example.com", "Async hello", html='<a href="https://x.example/a">A</a>'
            )
            msg = await waiter
            assert msg.links() == ["https://x.example/a"]
            assert [m.id for m in await box.messages()] == [msg.id]
            assert (await box.links(msg))[0].text == "A"
            assert b"Async hello" in await box.raw(msg)
            await box.delete()
            assert await box.search("Async") == []
            with pytest.raises(WaitTimeout):
                await box.wait_for(subject="Async hello", timeout=0.2)

    asyncio.run(scenario())
