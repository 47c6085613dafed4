"""SendGrid Inbound Parse: the settings API through the official SDK (shapes and errors), which
mail is posted where (by envelope recipient's domain; SMTP and mail sent in, never the send
APIs), the exact fields of the parsed and raw POSTs, the spam check, and the retry rules (a 5xx
is retried, a 4xx ends it, a deleted message ends it)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient

from mailsandbox.inbound.spam import GTUBE
from mailsandbox.runner import RunningSandbox
from tests.emulators.inbound_helpers import (
    delivery_states,
    inbound_of,
    multipart_parts,
    smtp_in,
)
from tests.sandbox.events.receiver import Receiver
from tests.sandbox.smtp.helpers import raw_of
from tests.waiting import eventually

HOST = "parse.example.com"
PARSED_FIELDS = [
    "headers",
    "dkim",
    "to",
    "from",
    "text",
    "subject",
    "attachments",
    "sender_ip",
    "envelope",
    "charsets",
    "SPF",
]
RAW_FIELDS = ["dkim", "email", "to", "from", "subject", "sender_ip", "envelope", "charsets", "SPF"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


def error_of(call: Callable[[], Any]) -> tuple[int, dict[str, Any]]:
    with pytest.raises(HTTPError) as raised:
        call()
    body: dict[str, Any] = json.loads(raised.value.body)
    return int(raised.value.status_code), body


def parse_setting(running: RunningSandbox, url: str, **options: bool) -> None:
    setting = {"hostname": HOST, "url": url, **options}
    answer = httpx.post(f"{running.url}/v3/user/webhooks/parse/settings", json=setting)
    assert answer.status_code == 201, answer.text


def test_settings_api_through_the_sdk(sg: SendGridAPIClient) -> None:
    settings = sg.client.user.webhooks.parse.settings
    assert json.loads(settings.get().body) == {"result": []}
    created = settings.post(request_body={"hostname": "Parse.Example.com", "url": "http://a/in"})
    assert created.status_code == 201
    assert json.loads(created.body) == {
        "url": "http://a/in",
        "hostname": "Parse.Example.com",
        "spam_check": False,
        "send_raw": False,
    }
    one = settings._("parse.example.com")  # the hostname is the key, compared without case
    patched = one.patch(request_body={"send_raw": True, "url": "https://b/in"})
    assert json.loads(patched.body) == {
        "url": "https://b/in",
        "hostname": "Parse.Example.com",
        "spam_check": False,
        "send_raw": True,
    }
    assert json.loads(one.get().body)["send_raw"] is True
    listed = json.loads(settings.get().body)["result"]
    assert [s["hostname"] for s in listed] == ["Parse.Example.com"]

    duplicate = {"hostname": "PARSE.example.com", "url": "http://c/in"}
    status, body = error_of(lambda: settings.post(request_body=duplicate))
    assert status == 400 and body["errors"][0]["message"] == "duplicate entry"
    assert one.delete().status_code == 204
    status, body = error_of(one.get)
    assert status == 404 and body["errors"][0]["message"] == "resource not found"
    assert error_of(lambda: one.patch(request_body={"send_raw": False}))[0] == 404
    assert error_of(one.delete)[0] == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://a/in"}, "hostname"),
        ({"hostname": "", "url": "http://a/in"}, "hostname"),
        ({"hostname": HOST}, "url"),
        ({"hostname": HOST, "url": "ftp://a/in"}, "url"),
        ({"hostname": HOST, "url": "http://a/in", "send_raw": "yes"}, "send_raw"),
        ({"hostname": HOST, "url": "http://a/in", "spam_check": 1}, "spam_check"),
    ],
)
def test_invalid_settings_are_refused(
    shared_sg: SendGridAPIClient, body: dict[str, Any], field: str
) -> None:
    settings = shared_sg.client.user.webhooks.parse.settings
    status, answer = error_of(lambda: settings.post(request_body=body))
    assert status == 400 and answer["errors"][0]["field"] == field
    assert json.loads(settings.get().body) == {"result": []}


def test_settings_need_a_valid_key_when_keys_are_set(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    running = sandbox_factory(sendgrid_api_key=["SG.good"])
    url = f"{running.url}/v3/user/webhooks/parse/settings"
    refused = httpx.get(url, headers={"Authorization": "Bearer SG.bad"})
    assert refused.status_code == 401 and refused.json()["errors"][0]["message"]
    assert httpx.get(url, headers={"Authorization": "Bearer SG.good"}).status_code == 200


def test_each_recipient_at_the_hostname_gets_a_parsed_post(
    running: RunningSandbox, receiver: Receiver
) -> None:
    parse_setting(running, receiver.url + "/parse")
    recipients = [f"one@{HOST}", "two@PARSE.EXAMPLE.COM", "three@elsewhere.example.org"]
    message = smtp_in(running, recipients, "Two of three", "Plain body\n")
    posts = receiver.wait_for(2)
    envelopes = []
    for post in posts:
        assert post.headers["Content-Type"].startswith("multipart/form-data; boundary=")
        parts = multipart_parts(post.headers["Content-Type"], post.body)
        fields = {p.name: p.text for p in parts}
        assert [p.name for p in parts] == PARSED_FIELDS
        assert fields["to"] == ", ".join(recipients) and fields["from"] == "Ann <ann@example.com>"
        assert fields["subject"] == "Two of three" and fields["text"].strip() == "Plain body"
        assert fields["attachments"] == "0" and fields["SPF"] == "none"
        assert fields["dkim"] == "none" and fields["sender_ip"] == "127.0.0.1"
        assert (
            fields["headers"].startswith("Message-ID: <")
            and "\nSubject: Two of three\n" in (fields["headers"])
        )
        assert json.loads(fields["charsets"]) == dict.fromkeys(
            ["to", "from", "subject", "text"], "UTF-8"
        )
        envelopes.append(json.loads(fields["envelope"]))
    assert sorted(e["to"][0] for e in envelopes) == sorted(recipients[:2])
    assert all(e["from"] == "ann@example.com" and len(e["to"]) == 1 for e in envelopes)
    matches = inbound_of(running, message)["Matches"]
    assert [m["Recipient"] for m in matches] == recipients[:2]
    assert {m["Description"] for m in matches} == {HOST}
    eventually(lambda: delivery_states(running, message) == {"delivered"})


def test_raw_mode_posts_the_whole_message(running: RunningSandbox, receiver: Receiver) -> None:
    parse_setting(running, receiver.url + "/raw", send_raw=True)
    message = smtp_in(running, [f"raw@{HOST}"], "Raw please")
    [post] = receiver.wait_for(1)
    parts = multipart_parts(post.headers["Content-Type"], post.body)
    assert [p.name for p in parts] == RAW_FIELDS
    fields = {p.name: p for p in parts}
    assert fields["email"].data == raw_of(running, message)
    assert json.loads(fields["charsets"].text) == dict.fromkeys(["to", "from", "subject"], "UTF-8")


def test_spam_check_scores_gtube(running: RunningSandbox, receiver: Receiver) -> None:
    parse_setting(running, receiver.url + "/spam", spam_check=True)
    smtp_in(running, [f"clean@{HOST}"], "Clean")
    smtp_in(running, [f"spam@{HOST}"], "Spam", f"Buy now {GTUBE}\n")
    scores = {}
    for post in receiver.wait_for(2):
        fields = {p.name: p.text for p in multipart_parts(post.headers["Content-Type"], post.body)}
        scores[fields["subject"]] = (float(fields["spam_score"]), fields["spam_report"])
    assert scores["Clean"][0] == 0.0 and "GTUBE" not in scores["Clean"][1]
    assert scores["Spam"][0] == 1000.0 and "GTUBE" in scores["Spam"][1]


def test_only_smtp_and_mail_sent_in_are_parsed(
    running: RunningSandbox, sg: SendGridAPIClient, receiver: Receiver
) -> None:
    parse_setting(running, receiver.url + "/in")
    with httpx.Client(base_url=running.url) as api:
        outbound = sg.client.mail.send.post(
            request_body={
                "personalizations": [{"to": [{"email": f"api@{HOST}"}]}],
                "from": {"email": "shop@example.com"},
                "subject": "Sent by the app",
                "content": [{"type": "text/plain", "value": "x"}],
            }
        )
        assert outbound.status_code == 202
        mailpit = {"From": {"Email": "a@example.com"}, "To": [{"Email": f"send@{HOST}"}]}
        stored = api.post("/api/v1/send", json={**mailpit, "Subject": "Mailpit send"}).json()
        sent_in = api.post("/api/v1/inbound", json={**mailpit, "Subject": "Sent in"}).json()
        [post] = receiver.wait_for(1)
        assert b"Sent in" in post.body
        listed = {m["Subject"]: m["ID"] for m in api.get("/api/v1/messages").json()["messages"]}
        assert inbound_of(running, stored["ID"]) == {"Inbound": False, "Matches": []}
        assert inbound_of(running, listed["Sent by the app"])["Inbound"] is False
        assert inbound_of(running, sent_in["ID"])["Inbound"] is True
        assert api.get("/api/v1/webhooks/deliveries").json()["outbox"] == {"delivered": 1}


def test_5xx_is_retried_4xx_ends_it(
    sandbox_factory: Callable[..., RunningSandbox], receiver: Receiver
) -> None:
    running = sandbox_factory(webhook_retry_schedule="0.2s")
    parse_setting(running, receiver.url + "/flaky")
    receiver.status = 503
    retried = smtp_in(running, [f"retry@{HOST}"], "Retried")
    receiver.wait_for(2, accepted=False)
    receiver.status = 200
    receiver.wait_for(1)
    eventually(lambda: delivery_states(running, retried) == {"delivered"})
    receiver.status = 400
    ended = smtp_in(running, [f"end@{HOST}"], "Ended")
    eventually(lambda: delivery_states(running, ended) == {"stopped"})
    [row] = inbound_of(running, ended)["Matches"][0]["Deliveries"]
    assert (row["Attempts"], row["Status"]) == (1, 400)


def test_a_message_deleted_before_its_delivery_ends_it(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    running = sandbox_factory(webhook_retry_schedule="1h")
    with Receiver() as app:
        url = app.url
    parse_setting(running, url + "/gone")  # nothing listens there any more
    message = smtp_in(running, [f"gone@{HOST}"], "Deleted too soon")
    [match] = inbound_of(running, message)["Matches"]
    row_id = match["Deliveries"][0]["ID"]
    with httpx.Client(base_url=running.url) as api:
        eventually(lambda: api.get("/api/v1/webhooks/deliveries").json()["deliveries"])
        assert api.request("DELETE", "/api/v1/messages", json={"IDs": [message]}).status_code == 200
        assert api.post(f"/api/v1/webhooks/deliveries/{row_id}/replay").status_code == 200

        def last() -> dict[str, Any]:
            found = api.get("/api/v1/webhooks/deliveries").json()["deliveries"][0]
            assert found["State"] == "stopped", found
            return dict(found)

        final = eventually(last)
    assert final["Error"] == "the message was deleted before it could be delivered"
