"""SES v1 (Query protocol) through boto3's ``ses`` client and django-ses's backend: the four
sends, the quota django-ses reads before sending, statistics, X-SES-* headers of raw messages."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from django.core.mail import EmailMultiAlternatives, get_connection

from mailsandbox.runner import RunningSandbox
from tests.emulators.django_settings import configure
from tests.emulators.ses.conftest import KEY_ID, REGION, by_ses_id
from tests.emulators.stored import listed, raw_message

pytestmark = pytest.mark.filterwarnings("ignore::Warning")


def test_send_email_and_templated_sends(
    running: RunningSandbox, api: httpx.Client, ses: Any
) -> None:
    first = ses.send_email(
        Source="Shop <shop@example.com>",
        Destination={"ToAddresses": ["ann@example.com"], "BccAddresses": ["audit@example.com"]},
        Message={
            "Subject": {"Data": "v1 hello", "Charset": "UTF-8"},
            "Body": {"Text": {"Data": "text"}, "Html": {"Data": "<b>html</b>"}},
        },
        ReplyToAddresses=["help@example.com"],
        ReturnPath="bounces@example.com",
        Tags=[{"Name": "flow", "Value": "signup"}],
    )["MessageId"]
    ses.create_template(
        Template={"TemplateName": "t1", "SubjectPart": "Hi {{n}}", "TextPart": "Dear {{n}}"}
    )
    second = ses.send_templated_email(
        Source="shop@example.com",
        Destination={"ToAddresses": ["bob@example.com"]},
        Template="t1",
        TemplateData=json.dumps({"n": "Bob"}),
    )["MessageId"]
    bulk = ses.send_bulk_templated_email(
        Source="shop@example.com",
        Template="t1",
        DefaultTemplateData='{"n": "friend"}',
        Destinations=[
            {"Destination": {"ToAddresses": ["c@example.com"]}},
            {
                "Destination": {"ToAddresses": ["d@example.com"]},
                "ReplacementTemplateData": '{"n": "Dee"}',
            },
        ],
    )["Status"]
    assert [s["Status"] for s in bulk] == ["Success", "Success"]
    subjects = [m["Subject"] for m in listed(api)]
    assert subjects == ["v1 hello", "Hi Bob", "Hi friend", "Hi Dee"]
    one = by_ses_id(running, api, first)
    assert one.metadata["ses"]["api"] == "v1" and one.metadata["ses"]["tags"] == {"flow": "signup"}
    assert one.metadata["ses"]["feedback_forwarding"] == "bounces@example.com"
    assert "audit@example.com" in one.recipients
    assert by_ses_id(running, api, second).metadata["ses"]["operation"] == "SendTemplatedEmail"


def test_raw_email_uses_destinations_and_x_ses_headers(
    running: RunningSandbox, api: httpx.Client, ses: Any
) -> None:
    ses.create_configuration_set(ConfigurationSet={"Name": "from-header"})
    raw = (
        b"From: shop@example.com\r\nTo: shown@example.com\r\nSubject: raw v1\r\n"
        b"X-SES-CONFIGURATION-SET: from-header\r\nX-SES-MESSAGE-TAGS: a=1, b=2\r\n"
        b"Date: Mon, 1 Jan 2001 00:00:00 +0000\r\n\r\nhello\r\n"
    )
    ses_id = ses.send_raw_email(
        RawMessage={"Data": raw}, Destinations=["shown@example.com", "extra@example.com"]
    )["MessageId"]
    found = by_ses_id(running, api, ses_id)
    assert found.metadata["ses"]["configuration_set"] == "from-header"
    assert found.metadata["ses"]["tags"] == {"a": "1", "b": "2"}
    assert sorted(found.recipients) == ["extra@example.com", "shown@example.com"]
    message = raw_message(api, found.id)
    assert message["Message-ID"] == f"<{ses_id}@{REGION}.amazonses.com>"
    assert "2001" not in message["Date"]  # SES writes its own Date
    assert message["X-SES-MESSAGE-TAGS"] is None


def test_quota_and_statistics(running: RunningSandbox, ses: Any) -> None:
    ses.send_email(
        Source="shop@example.com",
        Destination={"ToAddresses": ["ann@example.com"]},
        Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}},
    )
    quota = ses.get_send_quota()
    assert quota["SentLast24Hours"] == 1.0 and quota["MaxSendRate"] >= 14
    points = ses.get_send_statistics()["SendDataPoints"]
    assert points[0]["DeliveryAttempts"] == 1


@pytest.mark.parametrize("v2", [False, True])
def test_django_ses_backend(running: RunningSandbox, api: httpx.Client, v2: bool) -> None:
    configure()
    connection = get_connection(
        "django_ses.SESBackend",
        aws_access_key=KEY_ID,
        aws_secret_key="secret",
        aws_region_name=REGION,
        aws_region_endpoint=running.url,
        use_ses_v2=v2,
    )
    message = EmailMultiAlternatives(
        "From Django", "Plain body", "Shop <shop@example.com>", ["ann@example.com"],
        bcc=["bcc@example.com"], connection=connection,
    )  # fmt: skip
    message.attach_alternative("<p>HTML body</p>", "text/html")
    message.attach("notes.txt", "attached text", "text/plain")
    assert message.send() == 1  # django-ses reads the send quota first (auto-throttle)
    ses_id = message.extra_headers["message_id"]
    found = by_ses_id(running, api, ses_id)
    assert found.metadata["ses"]["operation"] == ("SendEmail" if v2 else "SendRawEmail")
    assert sorted(found.recipients) == ["ann@example.com", "bcc@example.com"]
    parsed = raw_message(api, found.id)
    assert parsed["Subject"] == "From Django"
    assert parsed.get_body(("html",)).get_content().strip() == "<p>HTML body</p>"  # type: ignore[union-attr]
    assert [p.get_filename() for p in parsed.iter_attachments()] == ["notes.txt"]
