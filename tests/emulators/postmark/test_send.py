"""Sending through postmarker (Postmark's Python client): text, HTML, attachments, an inline
image, Tag, Metadata, headers, tracking options, batches, the test token, and the stored
message with its Postmark metadata."""

from __future__ import annotations

import base64
from email.mime.text import MIMEText

import httpx
import pytest
from postmarker.core import PostmarkClient
from postmarker.exceptions import ClientError

from mailsandbox.runner import RunningSandbox
from tests.emulators.postmark.conftest import by_postmark_id, message
from tests.emulators.stored import listed, raw_message

LOGO = bytes(range(256))


def test_send_with_everything(
    running: RunningSandbox, api: httpx.Client, postmark: PostmarkClient
) -> None:
    answer = postmark.emails.send(
        From="Shop <shop@example.com>",
        To="Ann <ann@example.com>, bob@example.com",
        Cc="carol@example.com",
        Bcc="hidden@example.com",
        ReplyTo="replies@example.com",
        Subject="Your order ✓",
        TextBody="Thanks for your order",
        HtmlBody='<p>Thanks <img src="cid:logo.png"></p>',
        Tag="orders",
        Metadata={"order": "42", "color": "blue"},
        Headers={"X-Campaign": "spring"},
        TrackOpens=True,
        TrackLinks="HtmlOnly",
        Attachments=[
            {"Name": "logo.png", "Content": base64.b64encode(LOGO).decode(),
             "ContentType": "image/png", "ContentID": "cid:logo.png"},
            {"Name": "invoice.pdf", "Content": base64.b64encode(b"%PDF-1.4").decode(),
             "ContentType": "application/pdf"},
        ],
    )  # fmt: skip
    assert answer["ErrorCode"] == 0 and answer["Message"] == "OK"
    assert answer["To"] == "Ann <ann@example.com>, bob@example.com"
    stored = by_postmark_id(running, answer["MessageID"])
    assert stored.source == "postmark" and stored.inbox == "server-token-1"
    assert sorted(stored.recipients) == [
        "ann@example.com", "bob@example.com", "carol@example.com", "hidden@example.com"
    ]  # fmt: skip
    assert stored.tags == ["orders"]
    meta = stored.metadata["postmark"]
    assert meta["stream"] == "outbound" and meta["metadata"] == {"order": "42", "color": "blue"}
    assert meta["tracking"] == {"open": True, "click": True, "links": "HtmlOnly"}
    parsed = raw_message(api, stored.id)
    assert parsed["Subject"] == "Your order ✓" and parsed["X-Campaign"] == "spring"
    assert parsed["Reply-To"] == "replies@example.com"
    assert answer["MessageID"] in parsed["Message-ID"]
    parts = {p.get_filename(): p for p in parsed.walk() if p.get_filename()}
    assert parts["logo.png"].get_payload(decode=True) == LOGO
    assert parts["logo.png"]["Content-ID"] == "<logo.png>"
    assert parts["invoice.pdf"].get_content_disposition() == "attachment"
    assert parsed.get_body(("plain",)).get_content().strip() == "Thanks for your order"


def test_send_a_mime_message_and_batches(
    running: RunningSandbox, api: httpx.Client, postmark: PostmarkClient
) -> None:
    mime = MIMEText("Plain body")
    mime["From"], mime["To"], mime["Subject"] = "shop@example.com", "ann@example.com", "MIME"
    assert postmark.emails.send(message=mime)["ErrorCode"] == 0
    batch = postmark.emails.send_batch(
        message(To="bob@example.com", Subject="One"),
        message(To="not-an-address", Subject="Two"),
        message(To="carol@example.com", Subject="Three", MessageStream="broadcast"),
    )
    assert [r["ErrorCode"] for r in batch] == [0, 300, 0]
    assert "Illegal email address 'not-an-address'" in batch[1]["Message"]
    assert sorted(m["Subject"] for m in listed(api)) == ["MIME", "One", "Three"]
    three = by_postmark_id(running, batch[2]["MessageID"])
    assert three.metadata["postmark"]["stream"] == "broadcast"


def test_test_token_checks_and_stores_nothing(running: RunningSandbox, api: httpx.Client) -> None:
    client = PostmarkClient(server_token="POSTMARK_API_TEST", root_api_url=running.url + "/")
    answer = client.emails.send(**message())
    assert answer["ErrorCode"] == 0 and answer["Message"] == "Test job accepted"
    with pytest.raises(ClientError) as refused:
        client.emails.send(**message(To=""))
    assert refused.value.error_code == 300
    assert listed(api) == []


def test_tokens(sandbox_factory: object) -> None:
    running = sandbox_factory(postmark_server_token=["good"])  # type: ignore[operator]
    good = PostmarkClient(server_token="good", root_api_url=running.url + "/")
    assert good.emails.send(**message())["ErrorCode"] == 0
    bad = PostmarkClient(server_token="bad", root_api_url=running.url + "/")
    with pytest.raises(ClientError) as refused:
        bad.emails.send(**message())
    assert refused.value.error_code == 10 and "was invalid" in str(refused.value)
    test = PostmarkClient(server_token="POSTMARK_API_TEST", root_api_url=running.url + "/")
    assert test.emails.send(**message())["Message"] == "Test job accepted"
    missing = httpx.post(f"{running.url}/email", json=message())
    assert missing.status_code == 401 and missing.json()["ErrorCode"] == 10
