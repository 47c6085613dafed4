"""``/v3/mail/send`` through the official ``sendgrid`` SDK: what is stored, and how."""

from __future__ import annotations

import base64
import gzip
import json
import re
import sqlite3
import time

import httpx
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import (
    Attachment,
    Bcc,
    Category,
    Cc,
    CustomArg,
    Mail,
    Personalization,
    Substitution,
    To,
)

from mailsandbox.runner import RunningSandbox
from mailsandbox.storage import messages
from tests.emulators.sendgrid.helpers import listed, mail_body, metadata, raw_message
from tests.waiting import eventually

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 8


def test_plain_text_mail_is_stored_with_202_and_x_message_id(
    sg: SendGridAPIClient, http: httpx.Client, running: RunningSandbox
) -> None:
    mail = Mail(
        from_email=("ann@example.com", "Ann Example"),
        to_emails="bob@example.com",
        subject="Plain hello",
        plain_text_content="Hi Bob, plain text only.",
    )
    response = sg.send(mail)
    assert response.status_code == 202
    assert response.body == b""
    x_id = response.headers["X-Message-Id"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", x_id)

    [stored] = listed(http)
    assert stored["Subject"] == "Plain hello"
    assert stored["From"] == {"Name": "Ann Example", "Address": "ann@example.com"}
    assert stored["To"] == [{"Name": "", "Address": "bob@example.com"}]
    msg = raw_message(http, stored["ID"])
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content().strip() == "Hi Bob, plain text only."
    meta = metadata(running, stored["ID"])
    assert meta["x_message_id"] == x_id
    assert meta["sg_message_id"].startswith(x_id + ".")
    summary = running.sandbox.db.read_sync(lambda conn: messages.get_summary(conn, stored["ID"]))
    assert summary is not None
    assert (summary.source, summary.inbox) == ("sendgrid", "SG.test-key")


def test_html_and_text_become_an_alternative(sg: SendGridAPIClient, http: httpx.Client) -> None:
    sg.send(
        Mail(
            from_email="ann@example.com",
            to_emails="bob@example.com",
            subject="Both",
            plain_text_content="text body",
            html_content="<p>html <b>body</b></p>",
        )
    )
    msg = raw_message(http, listed(http)[0]["ID"])
    assert msg.get_content_type() == "multipart/alternative"
    kinds = [p.get_content_type() for p in msg.iter_parts()]
    assert kinds == ["text/plain", "text/html"]
    assert msg.get_body(("html",)).get_content().strip() == "<p>html <b>body</b></p>"  # type: ignore[union-attr]
    assert msg.get_body(("plain",)).get_content().strip() == "text body"  # type: ignore[union-attr]


def test_attachments_and_inline_images_keep_their_bytes(
    sg: SendGridAPIClient, http: httpx.Client
) -> None:
    mail = Mail(
        from_email="ann@example.com",
        to_emails="bob@example.com",
        subject="Files",
        plain_text_content="see attached",
        html_content='<p>logo: <img src="cid:logo123"></p>',
    )
    mail.add_attachment(
        Attachment(base64.b64encode(PNG).decode(), "logo.png", "image/png", "inline", "logo123")
    )
    mail.add_attachment(
        Attachment(base64.b64encode(PDF).decode(), "report.pdf", "application/pdf", "attachment")
    )
    sg.send(mail)
    [stored] = listed(http)
    assert stored["Attachments"] == 1
    msg = raw_message(http, stored["ID"])
    assert msg.get_content_type() == "multipart/mixed"
    related = next(p for p in msg.walk() if p.get_content_type() == "multipart/related")
    inline = next(p for p in related.iter_parts() if p.get_content_type() == "image/png")
    assert inline["Content-ID"] == "<logo123>"
    assert inline.get_content_disposition() == "inline"
    assert inline.get_payload(decode=True) == PNG
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_filename() == "report.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_payload(decode=True) == PDF
    # and through the Mailpit API's part download, byte for byte
    detail = http.get(f"/api/v1/message/{stored['ID']}").json()
    parts = {p["FileName"]: p["PartID"] for p in detail["Attachments"] + detail["Inline"]}
    assert http.get(f"/api/v1/message/{stored['ID']}/part/{parts['logo.png']}").content == PNG
    assert http.get(f"/api/v1/message/{stored['ID']}/part/{parts['report.pdf']}").content == PDF


def test_each_personalization_is_one_message(
    sg: SendGridAPIClient, http: httpx.Client, running: RunningSandbox
) -> None:
    mail = Mail(from_email="ann@example.com", subject="Default subject")
    mail.add_content("Hello -name-", "text/plain")
    first = Personalization()
    first.add_to(To("bob@example.com", "Bob"))
    first.add_cc(Cc("carol@example.com"))
    first.add_bcc(Bcc("hidden@example.com"))
    first.add_custom_arg(CustomArg("user", "42"))
    first.add_substitution(Substitution("-name-", "Bob"))
    second = Personalization()
    second.add_to(To("dave@example.com"))
    second.subject = "Own subject"
    mail.add_personalization(first)
    mail.add_personalization(second)
    mail.category = [Category("welcome"), Category("onboarding")]
    mail.custom_arg = CustomArg("campaign", "spring")
    response = sg.send(mail)
    assert response.status_code == 202
    x_id = response.headers["X-Message-Id"]

    one, two = sorted(listed(http), key=lambda m: m["To"][0]["Address"])  # bob, dave
    assert one["To"] == [{"Name": "Bob", "Address": "bob@example.com"}]
    assert one["Cc"] == [{"Name": "", "Address": "carol@example.com"}]
    assert one["Bcc"] == [{"Name": "", "Address": "hidden@example.com"}]
    assert raw_message(http, one["ID"]).get_content().strip() == "Hello Bob"
    assert (one["Subject"], two["Subject"]) == ("Default subject", "Own subject")
    meta_one, meta_two = metadata(running, one["ID"]), metadata(running, two["ID"])
    assert meta_one["x_message_id"] == meta_two["x_message_id"] == x_id
    assert meta_one["sg_message_id"] != meta_two["sg_message_id"]
    assert sorted(meta_one["categories"]) == ["onboarding", "welcome"]
    assert meta_one["custom_args"] == {"campaign": "spring", "user": "42"}
    assert meta_two["custom_args"] == {"campaign": "spring"}
    assert sorted(one["Tags"]) == ["onboarding", "welcome"]


def test_settings_and_ids_are_recorded(http: httpx.Client, running: RunningSandbox) -> None:
    body = mail_body(
        batch_id="batch-1",
        asm={"group_id": 7, "groups_to_display": [7, 8]},
        send_at=1_700_000_000,
        ip_pool_name="marketing",
        mail_settings={"bypass_list_management": {"enable": True}},
        tracking_settings={"click_tracking": {"enable": False}, "open_tracking": {"enable": True}},
    )
    assert http.post("/v3/mail/send", json=body).status_code == 202
    meta = metadata(running, listed(http)[0]["ID"])
    assert meta["batch_id"] == "batch-1"
    assert meta["asm"] == {"group_id": 7, "groups_to_display": [7, 8]}
    assert meta["send_at"] == 1_700_000_000
    assert meta["ip_pool_name"] == "marketing"
    assert meta["mail_settings"] == {"bypass_list_management": True}
    assert meta["tracking"] == {"click": False, "open": True, "subscription": False}


def test_sandbox_mode_validates_but_stores_nothing(
    sg: SendGridAPIClient, http: httpx.Client, running: RunningSandbox
) -> None:
    body = mail_body(mail_settings={"sandbox_mode": {"enable": True}})
    response = sg.client.mail.send.post(request_body=body)
    assert response.status_code == 200
    assert response.body == b""
    assert listed(http) == []
    [logged] = running.sandbox.extensions["sendgrid.sandbox_mode"]
    assert logged["x_message_id"] == response.headers["X-Message-Id"]
    assert logged["recipients"] == ["bob@example.com"]


def test_sink_recipients_are_accepted_and_discarded(http: httpx.Client) -> None:
    body = mail_body(
        personalizations=[
            {"to": [{"email": "anyone@sink.sendgrid.net"}]},
            {"to": [{"email": "real@example.com"}, {"email": "other@sink.sendgrid.net"}]},
        ]
    )
    assert http.post("/v3/mail/send", json=body).status_code == 202
    [stored] = listed(http)
    assert [a["Address"] for a in stored["To"]] == ["real@example.com", "other@sink.sendgrid.net"]
    assert stored["Bcc"] in (None, [])


def test_gzip_request_body_and_footer(http: httpx.Client) -> None:
    body = mail_body(
        content=[
            {"type": "text/plain", "value": "Body"},
            {"type": "text/html", "value": "<html><body><p>Body</p></body></html>"},
        ],
        mail_settings={"footer": {"enable": True, "text": "-- footer", "html": "<p>footer</p>"}},
    )
    response = http.post(
        "/v3/mail/send",
        content=gzip.compress(json.dumps(body).encode()),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert response.status_code == 202
    msg = raw_message(http, listed(http)[0]["ID"])
    assert msg.get_body(("plain",)).get_content().rstrip().endswith("Body\n\n-- footer")  # type: ignore[union-attr]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<p>Body</p><p>footer</p></body>" in html


def test_unverified_sender_gets_403(http: httpx.Client) -> None:
    response = http.post("/v3/mail/send", json=mail_body(**{"from": {"email": "a@nope.invalid"}}))
    assert response.status_code == 403
    [error] = response.json()["errors"]
    assert error["field"] == "from"
    assert "verified Sender Identity" in error["message"]
    assert listed(http) == []


def test_personalization_overrides_and_header_merge(
    http: httpx.Client, running: RunningSandbox
) -> None:
    body = mail_body(
        personalizations=[
            {
                "to": [{"email": "bob@example.com"}],
                "from": {"email": "team@example.com", "name": "Team"},
                "headers": {"X-Both": "personalization", "X-Sandbox-Inbox": "qa"},
            }
        ],
        reply_to_list=[{"email": "r1@example.com"}, {"email": "r2@example.com", "name": "R Two"}],
        headers={"X-Both": "top", "X-Top": "only-top"},
    )
    assert http.post("/v3/mail/send", json=body).status_code == 202
    [stored] = listed(http)
    assert stored["From"] == {"Name": "Team", "Address": "team@example.com"}
    assert stored["ReplyTo"] == [
        {"Name": "", "Address": "r1@example.com"},
        {"Name": "R Two", "Address": "r2@example.com"},
    ]
    msg = raw_message(http, stored["ID"])
    assert (msg["X-Both"], msg["X-Top"]) == ("personalization", "only-top")
    assert msg["Return-Path"] == "<team@example.com>"
    summary = running.sandbox.db.read_sync(lambda conn: messages.get_summary(conn, stored["ID"]))
    assert summary is not None and summary.inbox == "qa"


def test_send_at_holds_delivery_until_then(http: httpx.Client, running: RunningSandbox) -> None:
    """A scheduled send is stored at once and processed; delivered no earlier than send_at."""
    send_at = int(time.time()) + 2
    answer = http.post(
        "/v3/mail/send", json=mail_body(send_at=send_at), headers={"Authorization": "Bearer k"}
    )
    assert answer.status_code == 202, answer.text
    [message] = listed(http)

    def types(conn: sqlite3.Connection) -> list[tuple[str, float]]:
        sql = "SELECT type, created FROM events WHERE message_id = ? ORDER BY created"
        return [(row[0], row[1]) for row in conn.execute(sql, (message["ID"],))]

    def delivered() -> list[tuple[str, float]]:
        rows = running.sandbox.db.read_sync(types)
        assert len(rows) == 2, rows
        return rows

    found = eventually(delivered)
    assert [t for t, _ in found] == ["queued", "delivered"]
    assert found[1][1] >= send_at  # held: delivered no earlier than send_at
