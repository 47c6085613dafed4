"""Sending through the official ``mailgun`` SDK: what is stored is what was asked for."""

from __future__ import annotations

import json
import smtplib
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

import httpx
from mailgun.client import Client

from mailsandbox.runner import RunningSandbox
from tests.emulators.mailgun.conftest import (
    DOMAIN,
    KEY,
    raw_message,
    stored,
    stored_summary,
    wait_for_events,
)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8  # binary: any re-encoding slip shows


def test_text_html_tags_variables_and_options(
    mg: Client, api: httpx.Client, running: RunningSandbox
) -> None:
    answer = mg.messages.create(
        domain=DOMAIN,
        data={
            "from": "Ann Sender <ann@mg.example.com>",
            "to": ["bob@example.com", "Carol <carol@example.com>, dave@example.com"],
            "cc": "erin@example.com",
            "bcc": "hidden@example.com",
            "subject": "Hello ✓",
            "text": "plain body",
            "html": "<p>html body</p>",
            "amp-html": "<html amp4email><body>amp body</body></html>",
            "o:tag": ["welcome", "onboarding"],
            "v:user-id": "42",
            "o:tracking-clicks": "htmlonly",
            "o:tracking-opens": "yes",
            "o:require-tls": "True",
            "o:deliverytime": "Thu, 26 Nov 2026 10:00:00 -0000",
            "h:Reply-To": "support@mg.example.com",
            "h:X-Custom": "custom value",
        },
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["message"] == "Queued. Thank you."
    assert body["id"].startswith("<") and body["id"].endswith(f"@{DOMAIN}>")

    [summary] = stored(api)
    assert summary["Subject"] == "Hello ✓"
    assert [a["Address"] for a in summary["To"]] == [
        "bob@example.com",
        "carol@example.com",
        "dave@example.com",
    ]
    assert summary["Bcc"] == [{"Name": "", "Address": "hidden@example.com"}]
    assert summary["MessageID"] == body["id"].strip("<>")
    assert sorted(summary["Tags"]) == ["onboarding", "welcome"]
    msg = raw_message(api, summary["ID"])
    assert msg["Reply-To"] == "support@mg.example.com"
    assert msg["X-Custom"] == "custom value"
    assert msg.get_all("X-Mailgun-Tag") == ["welcome", "onboarding"]
    assert json.loads(msg["X-Mailgun-Variables"]) == {"user-id": "42"}
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert text is not None and text.get_content().strip() == "plain body"
    assert html is not None and html.get_content().strip() == "<p>html body</p>"
    [amp] = [p for p in msg.walk() if p.get_content_type() == "text/x-amp-html"]
    assert "amp body" in amp.get_content()

    stored_message = stored_summary(running, summary["ID"])
    assert (stored_message.inbox, stored_message.source) == (KEY, "mailgun")
    options = stored_message.metadata["mailgun"]
    assert options["id"] == body["id"] and options["domain"] == DOMAIN
    assert options["tags"] == ["welcome", "onboarding"]
    assert options["user_variables"] == {"user-id": "42"}
    assert options["tracking"] == {"opens": True, "clicks": "htmlonly"}
    assert options["require_tls"] is True and options["testmode"] is False
    assert options["deliverytime"] == "Thu, 26 Nov 2026 10:00:00 -0000"
    assert sorted(stored_message.recipients) == sorted(
        [
            "bob@example.com",
            "carol@example.com",
            "dave@example.com",
            "erin@example.com",
            "hidden@example.com",
        ]
    )


def test_attachments_and_inline_images_keep_their_bytes(mg: Client, api: httpx.Client) -> None:
    report = b"%PDF-1.4 fake pdf \x00\x01\x02" * 50
    answer = mg.messages.create(
        domain=DOMAIN,
        data={
            "from": "ann@mg.example.com",
            "to": "bob@example.com",
            "subject": "Files",
            "text": "see attached",
            "html": '<p>logo: <img src="cid:logo.png"></p>',
        },
        files=[
            ("attachment", ("report.pdf", report, "application/pdf")),
            ("attachment", ("notes.txt", b"line one\nline two\n", "text/plain")),
            ("inline", ("logo.png", PNG, "image/png")),
        ],
    )
    assert answer.status_code == 200
    [summary] = stored(api)
    assert summary["Attachments"] == 2
    msg = raw_message(api, summary["ID"])
    files = {part.get_filename(): part for part in msg.iter_attachments()}
    assert files["report.pdf"].get_content() == report
    assert files["report.pdf"].get_content_type() == "application/pdf"
    assert files["notes.txt"].get_content().replace("\r\n", "\n") == "line one\nline two\n"
    inline = next(p for p in msg.walk() if p.get_filename() == "logo.png")
    assert inline["Content-ID"] == "<logo.png>"
    assert inline.get_content_disposition() == "inline"
    assert inline.get_content() == PNG
    html = msg.get_body(("html",))
    assert html is not None and "cid:logo.png" in html.get_content()


def test_batch_send_gives_each_recipient_their_own_message(mg: Client, api: httpx.Client) -> None:
    answer = mg.messages.create(
        domain=DOMAIN,
        data={
            "from": "ann@mg.example.com",
            "to": ["Bob <bob@example.com>", "carol@example.com"],
            "subject": "Hi %recipient.first%",
            "text": "Your code is %recipient.code%.",
            "recipient-variables": json.dumps(
                {
                    "bob@example.com": {"first": "Bob", "code": "B-1"},
                    "carol@example.com": {"first": "Carol", "code": "C-2"},
                }
            ),
        },
    )
    assert answer.status_code == 200
    messages = stored(api)
    assert len(messages) == 2
    by_to = {m["To"][0]["Address"]: m for m in messages}
    assert by_to["bob@example.com"]["Subject"] == "Hi Bob"
    assert by_to["carol@example.com"]["Subject"] == "Hi Carol"
    for address, code in (("bob@example.com", "B-1"), ("carol@example.com", "C-2")):
        summary = by_to[address]
        assert [a["Address"] for a in summary["To"]] == [address]  # nobody sees the others
        assert not summary["Bcc"]
        body = raw_message(api, summary["ID"]).get_body(("plain",))
        assert body is not None and body.get_content().strip() == f"Your code is {code}."
        assert summary["MessageID"] == answer.json()["id"].strip("<>")


def test_test_mode_is_accepted_and_flagged(
    mg: Client, api: httpx.Client, running: RunningSandbox
) -> None:
    data = {"from": "a@mg.example.com", "to": "b@example.com", "text": "x", "o:testmode": "yes"}
    answer = mg.messages.create(domain=DOMAIN, data=data)
    assert answer.json()["message"] == "Queued. Thank you."
    [summary] = stored(api)
    assert stored_summary(running, summary["ID"]).metadata["mailgun"]["testmode"] is True
    delivered, accepted = wait_for_events(mg, 2)
    assert (accepted["event"], delivered["event"]) == ("accepted", "delivered")
    assert accepted["flags"]["is-test-mode"] is delivered["flags"]["is-test-mode"] is True
    assert delivered["delivery-status"]["code"] == 650


def test_messages_mime_stores_the_message_as_sent(mg: Client, api: httpx.Client) -> None:
    msg = EmailMessage()
    msg["From"] = "Ann <ann@mg.example.com>"
    msg["To"] = "bob@example.com"
    msg["Subject"] = "Raw MIME"
    msg["Message-ID"] = "<raw-1@mg.example.com>"
    msg.set_content("built by the caller")
    msg.add_attachment(b"a,b\n1,2\n", maintype="text", subtype="csv", filename="data.csv")
    answer = mg.mimemessage.create(
        domain=DOMAIN,
        data={"to": "bob@example.com", "o:tag": "mime", "v:kind": "raw"},
        files={"message": ("message.mime", msg.as_bytes())},
    )
    assert answer.status_code == 200
    assert answer.json() == {"id": "<raw-1@mg.example.com>", "message": "Queued. Thank you."}
    [summary] = stored(api)
    assert summary["Subject"] == "Raw MIME" and summary["Tags"] == ["mime"]
    raw = api.get(f"/api/v1/message/{summary['ID']}/raw").content
    assert raw.endswith(msg.as_bytes().replace(b"\n", b"\r\n"))
    [accepted, *_] = wait_for_events(mg, 2)[::-1]  # the events' message.attachments
    assert accepted["message"]["attachments"] == [
        {"filename": "data.csv", "content-type": "text/csv", "size": 8}
    ]


def test_same_message_over_smtp_and_mailgun_is_stored_alike(
    mg: Client, api: httpx.Client, smtp: smtplib.SMTP
) -> None:
    msg = EmailMessage()
    msg["From"] = "Ann <ann@mg.example.com>"
    msg["To"] = "Bob <bob@example.com>"
    msg["Subject"] = "Parity"
    msg.set_content("same text")
    msg.add_alternative("<p>same html</p>", subtype="html")
    msg.add_attachment(PNG, maintype="image", subtype="png", filename="pic.png")
    smtp.send_message(msg)
    mg.messages.create(
        domain=DOMAIN,
        data={
            "from": "Ann <ann@mg.example.com>",
            "to": "Bob <bob@example.com>",
            "subject": "Parity",
            "text": "same text",
            "html": "<p>same html</p>",
        },
        files=[("attachment", ("pic.png", PNG, "image/png"))],
    )
    via_smtp, via_api = stored(api)
    for key in ("From", "To", "Cc", "Bcc", "Subject", "Attachments", "Snippet"):
        assert via_smtp[key] == via_api[key], key
    a, b = raw_message(api, via_smtp["ID"]), raw_message(api, via_api["ID"])
    for kind in ("plain", "html"):
        part_a, part_b = a.get_body((kind,)), b.get_body((kind,))
        assert part_a is not None and part_b is not None
        assert part_a.get_content().strip() == part_b.get_content().strip()
    [file_a], [file_b] = list(a.iter_attachments()), list(b.iter_attachments())
    assert file_a.get_content() == file_b.get_content() == PNG
    assert file_a.get_filename() == file_b.get_filename() == "pic.png"


def test_events_storage_url_returns_the_stored_message(mg: Client, api: httpx.Client) -> None:
    mg.messages.create(
        domain=DOMAIN,
        data={"from": "a@mg.example.com", "to": "b@example.com", "subject": "S", "text": "T"},
        files=[("attachment", ("a.txt", b"abc", "text/plain"))],
    )
    [item] = mg.events.get(domain=DOMAIN, filters={"event": "accepted"}).json()["items"]
    url = item["storage"]["url"]
    stored_json = httpx.get(url, auth=("api", KEY)).json()
    assert stored_json["subject"] == "S" and stored_json["body-plain"].strip() == "T"
    [attachment] = stored_json["attachments"]  # each with its download URL, as Mailgun's
    assert attachment == {
        "name": "a.txt",
        "content-type": "text/plain",
        "size": 3,
        "url": f"{url}/attachments/0",
    }
    assert httpx.get(attachment["url"], auth=("api", KEY)).content == b"abc"
    assert ["Subject", "S"] in stored_json["message-headers"]
    mime_json = httpx.get(url, headers={"Accept": "message/rfc2822"}).json()
    [summary] = stored(api)
    raw = api.get(f"/api/v1/message/{summary['ID']}/raw").content
    assert mime_json["body-mime"].encode() == raw
    other = httpx.get(url.replace(DOMAIN, "other.example.org"))
    assert (other.status_code, other.json()) == (404, {"message": "Message not found"})


def test_h_message_id_becomes_the_mailgun_id(mg: Client, api: httpx.Client) -> None:
    data = {"from": "a@mg.example.com", "to": "b@example.com", "text": "t"}
    answer = mg.messages.create(domain=DOMAIN, data={**data, "h:Message-Id": "<mine@app.test>"})
    assert answer.json()["id"] == "<mine@app.test>"
    [summary] = stored(api)
    assert summary["MessageID"] == "mine@app.test"
    assert raw_message(api, summary["ID"]).get_all("Message-ID") == ["<mine@app.test>"]


def test_deliverytime_holds_delivery_until_then(mg: Client, api: httpx.Client) -> None:
    """o:deliverytime: accepted at once, stored at once, delivered no earlier than asked."""
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    data = {
        "from": "a@mg.example.com",
        "to": "b@example.com",
        "text": "later",
        "o:deliverytime": format_datetime(when),
    }
    assert mg.messages.create(domain=DOMAIN, data=data).status_code == 200
    assert len(stored(api)) == 1  # in the sandbox right away, like every caught message
    [accepted] = wait_for_events(mg, 1)
    assert accepted["event"] == "accepted"
    delivered, _ = wait_for_events(mg, 2)
    assert delivered["event"] == "delivered"
    assert delivered["timestamp"] >= when.timestamp()
