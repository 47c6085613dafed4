"""SES v2 sends through boto3's ``sesv2`` client: Simple (text, HTML, attachments, inline
images, headers, tags), Raw and Template content, ``SendBulkEmail``; what is stored (one message
per destination, SES's Message-ID) and the metadata the UI shows."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from mailsandbox.runner import RunningSandbox
from tests.emulators.ses.conftest import KEY_ID, REGION, by_ses_id, simple
from tests.emulators.stored import listed, raw_message

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def test_simple_send_is_stored_with_ses_message_id(
    running: RunningSandbox, api: httpx.Client, sesv2: Any
) -> None:
    sent = sesv2.send_email(
        FromEmailAddress="Shop <shop@example.com>",
        Destination={
            "ToAddresses": ["Ann <ann@example.com>"],
            "CcAddresses": ["cc@example.com"],
            "BccAddresses": ["hidden@example.com"],
        },
        ReplyToAddresses=["support@example.com"],
        Content=simple("Your order", "Plain text ✓", "<p>HTML <b>body</b></p>"),
        EmailTags=[{"Name": "campaign", "Value": "welcome"}],
    )
    ses_id = sent["MessageId"]
    assert ses_id.startswith("0100") and ses_id.endswith("-000000")
    [summary] = listed(api)
    message = raw_message(api, summary["ID"])
    assert message["Message-ID"] == f"<{ses_id}@{REGION}.amazonses.com>"
    assert message["From"] == "Shop <shop@example.com>"
    assert message["To"] == "Ann <ann@example.com>" and message["Cc"] == "cc@example.com"
    assert message["Reply-To"] == "support@example.com"
    assert message["Subject"] == "Your order"
    assert message.get_body(("plain",)).get_content().strip() == "Plain text ✓"  # type: ignore[union-attr]
    assert "<b>body</b>" in message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    stored_message = by_ses_id(running, api, ses_id)
    assert stored_message.source == "ses" and stored_message.inbox == KEY_ID
    assert sorted(stored_message.recipients) == sorted(
        ["ann@example.com", "cc@example.com", "hidden@example.com"]
    )
    meta = stored_message.metadata["ses"]
    assert meta["operation"] == "SendEmail" and meta["region"] == REGION
    assert meta["tags"] == {"campaign": "welcome"} and stored_message.tags == ["welcome"]


def test_attachments_inline_images_and_headers(api: httpx.Client, sesv2: Any) -> None:
    sesv2.send_email(
        FromEmailAddress="shop@example.com",
        Destination={"ToAddresses": ["ann@example.com"]},
        Content={
            "Simple": {
                "Subject": {"Data": "Invoice"},
                "Body": {
                    "Text": {"Data": "See attached"},
                    "Html": {"Data": '<p>Logo: <img src="cid:logo"></p>'},
                },
                "Headers": [{"Name": "X-Order", "Value": "42"}],
                "Attachments": [
                    {
                        "FileName": "invoice.pdf",
                        "RawContent": b"%PDF-1.4 fake",
                        "ContentType": "application/pdf",
                    },
                    {
                        "FileName": "logo.png",
                        "RawContent": PNG,
                        "ContentDisposition": "INLINE",
                        "ContentId": "logo",
                        "ContentType": "image/png",
                    },
                ],
            }
        },
    )
    [summary] = listed(api)
    message = raw_message(api, summary["ID"])
    assert message["X-Order"] == "42"
    parts = {p.get_filename(): p for p in message.walk() if p.get_filename()}
    assert parts["invoice.pdf"].get_content() == b"%PDF-1.4 fake"
    assert parts["invoice.pdf"].get_content_disposition() == "attachment"
    assert parts["logo.png"].get_content() == PNG and parts["logo.png"]["Content-ID"] == "<logo>"
    assert parts["logo.png"].get_content_disposition() == "inline"
    detail = api.get(f"/api/v1/message/{summary['ID']}").json()
    assert [a["FileName"] for a in detail["Attachments"]] == ["invoice.pdf"]
    assert [a["FileName"] for a in detail["Inline"]] == ["logo.png"]


def test_raw_send_keeps_the_message_but_takes_sess_message_id(
    api: httpx.Client, sesv2: Any
) -> None:
    raw = (
        b"From: Shop <shop@example.com>\r\nTo: ann@example.com\r\nSubject: Raw one\r\n"
        b"Message-ID: <mine@example.com>\r\nX-SES-CONFIGURATION-SET: nope\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nRaw body\r\n"
    )
    sesv2.create_configuration_set(ConfigurationSetName="nope")
    sent = sesv2.send_email(Content={"Raw": {"Data": raw}})
    [summary] = listed(api)
    message = raw_message(api, summary["ID"])
    assert message["Message-ID"] == f"<{sent['MessageId']}@{REGION}.amazonses.com>"
    assert message["Subject"] == "Raw one" and message["X-SES-CONFIGURATION-SET"] is None
    assert message.get_content().strip() == "Raw body"
    assert summary["To"] == [{"Name": "", "Address": "ann@example.com"}]


def test_stored_and_inline_templates_render_without_escaping(api: httpx.Client, sesv2: Any) -> None:
    sesv2.create_email_template(
        TemplateName="welcome",
        TemplateContent={
            "Subject": "Welcome {{name}}",
            "Text": "Hi {{name}}, {{#each items}}{{this}} {{/each}}",
            "Html": "<p>Hi {{name}}</p>{{{raw}}}",
        },
    )
    sesv2.send_email(
        FromEmailAddress="shop@example.com",
        Destination={"ToAddresses": ["ann@example.com"]},
        Content={
            "Template": {
                "TemplateName": "welcome",
                "TemplateData": '{"name": "<Ann>", "items": ["a", "b"], "raw": "<i>x</i>"}',
            }
        },
    )
    sesv2.send_email(
        FromEmailAddress="shop@example.com",
        Destination={"ToAddresses": ["bob@example.com"]},
        Content={
            "Template": {
                "TemplateContent": {"Subject": "Inline {{n}}", "Text": "n={{n}}"},
                "TemplateData": '{"n": 7}',
            }
        },
    )
    first, second = listed(api)
    message = raw_message(api, first["ID"])
    assert message["Subject"] == "Welcome <Ann>"  # SES does not escape
    assert message.get_body(("plain",)).get_content().strip() == "Hi <Ann>, a b"  # type: ignore[union-attr]
    assert "<p>Hi <Ann></p><i>x</i>" in message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert second["Subject"] == "Inline 7"


def test_bulk_email_one_message_per_entry(
    running: RunningSandbox, api: httpx.Client, sesv2: Any
) -> None:
    sesv2.create_email_template(
        TemplateName="promo",
        TemplateContent={"Subject": "Hi {{name}}", "Text": "Code {{code}}"},
    )
    result = sesv2.send_bulk_email(
        FromEmailAddress="shop@example.com",
        DefaultContent={
            "Template": {"TemplateName": "promo", "TemplateData": '{"name": "you", "code": "X"}'}
        },
        DefaultEmailTags=[{"Name": "kind", "Value": "promo"}],
        BulkEmailEntries=[
            {"Destination": {"ToAddresses": ["ann@example.com"]}},
            {
                "Destination": {"ToAddresses": ["bob@example.com"]},
                "ReplacementEmailContent": {
                    "ReplacementTemplate": {
                        "ReplacementTemplateData": '{"name": "Bob", "code": "B"}'
                    }
                },
                "ReplacementHeaders": [{"Name": "X-Who", "Value": "bob"}],
            },
            {"Destination": {"ToAddresses": ["not-an-address"]}},
        ],
    )
    statuses = [r["Status"] for r in result["BulkEmailEntryResults"]]
    assert statuses == ["SUCCESS", "SUCCESS", "INVALID_PARAMETER"]
    ann, bob = listed(api)
    assert (ann["Subject"], bob["Subject"]) == ("Hi you", "Hi Bob")
    assert raw_message(api, bob["ID"])["X-Who"] == "bob"
    ids = [r["MessageId"] for r in result["BulkEmailEntryResults"][:2]]
    assert by_ses_id(running, api, ids[1]).metadata["ses"]["tags"] == {"kind": "promo"}
