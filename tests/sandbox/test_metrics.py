"""``GET /metrics``, read with prometheus_client's own parser: a counter change per door."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from email.message import EmailMessage

import httpx
from prometheus_client.parser import text_string_to_metric_families

from mailsandbox.runner import RunningSandbox
from tests.sandbox.events.receiver import Receiver
from tests.waiting import eventually

Factory = Callable[..., RunningSandbox]
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(running: RunningSandbox) -> Samples:
    reply = httpx.get(running.url + "/metrics")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(reply.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def send_smtp(running: RunningSandbox) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "app@example.com", "ann@example.com", "Hi"
    msg.set_content("hello\n")
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=30) as client:
        client.send_message(msg)


def send_sendgrid(running: RunningSandbox) -> None:
    reply = httpx.post(running.url + "/v3/mail/send", json={
        "personalizations": [{"to": [{"email": "ann@example.com"}]}],
        "from": {"email": "app@example.com"}, "subject": "Hi",
        "content": [{"type": "text/plain", "value": "hello"}],
    })  # fmt: skip
    assert reply.status_code == 202


def send_mailgun(running: RunningSandbox) -> None:
    reply = httpx.post(running.url + "/v3/mg.example.com/messages", auth=("api", "key-x"), data={
        "from": "app@mg.example.com", "to": "ann@example.com", "subject": "Hi", "text": "hello",
    })  # fmt: skip
    assert reply.status_code == 200


def send_api(running: RunningSandbox) -> None:
    reply = httpx.post(running.url + "/api/v1/send", json={
        "From": {"Email": "app@example.com"}, "To": [{"Email": "ann@example.com"}],
        "Subject": "Hi", "Text": "hello",
    })  # fmt: skip
    assert reply.status_code == 200


DOORS = {"smtp": send_smtp, "sendgrid": send_sendgrid, "mailgun": send_mailgun, "api": send_api}


def test_each_door_counts_its_messages_and_bytes(sandbox_factory: Factory) -> None:
    running = sandbox_factory()
    stored_bytes = 0
    for door, send in DOORS.items():
        before = scrape(running)
        send(running)
        after = scrape(running)
        newest = httpx.get(running.url + "/api/v1/messages?limit=1").json()["messages"][0]
        stored_bytes += newest["Size"]
        for other in DOORS:
            expected = 1 if other == door else 0
            change = value(after, "mailsandbox_messages_received_total", door=other) - value(
                before, "mailsandbox_messages_received_total", door=other
            )
            assert change == expected, (door, other)
        grown = value(after, "mailsandbox_received_bytes_total", door=door) - value(
            before, "mailsandbox_received_bytes_total", door=door
        )
        assert grown == newest["Size"]
        assert value(after, "mailsandbox_ingest_seconds_count") == value(
            before, "mailsandbox_ingest_seconds_count") + 1  # fmt: skip
    final = scrape(running)
    assert value(final, "mailsandbox_messages_stored") == 4
    assert value(final, "mailsandbox_messages_unread") == 4
    assert sum(v for (n, _), v in final.items() if n == "mailsandbox_received_bytes_total") == (
        stored_bytes
    )
    assert value(final, "mailsandbox_smtp_sessions_total") == 1
    assert value(final, "mailsandbox_database_bytes", file="messages") > 0
    # The histogram is cumulative, ends at +Inf with every observation, and sums positive time
    buckets = sorted(
        (float(dict(labels)["le"]), v)
        for (n, labels), v in final.items()
        if n == "mailsandbox_ingest_seconds_bucket"
    )
    counts = [v for _, v in buckets]
    assert counts == sorted(counts) and buckets[-1] == (float("inf"), 4)
    assert value(final, "mailsandbox_ingest_seconds_sum") > 0


def test_webhook_attempts_by_result_and_the_outbox(sandbox_factory: Factory) -> None:
    with Receiver(status=503) as receiver:
        running = sandbox_factory(
            webhook_url=[receiver.url + "/hook"], webhook_retry_schedule="0.2s"
        )
        send_smtp(running)
        retrying = eventually(
            lambda: value(scrape(running), "mailsandbox_webhook_attempts_total",
                          provider="generic", result="retrying") >= 1)  # fmt: skip
        assert retrying
        assert value(scrape(running), "mailsandbox_webhook_outbox_pending") == 1
        receiver.status = 200
        eventually(lambda: value(scrape(running), "mailsandbox_webhook_attempts_total",
                                 provider="generic", result="delivered") == 1)  # fmt: skip
        assert value(scrape(running), "mailsandbox_webhook_outbox_pending") == 0


def test_metrics_are_behind_the_ui_login(sandbox_factory: Factory) -> None:
    running = sandbox_factory(ui_auth="admin:secret")
    assert httpx.get(running.url + "/metrics").status_code == 401
    assert httpx.get(running.url + "/metrics", auth=("admin", "secret")).status_code == 200
