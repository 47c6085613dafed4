"""django-anymail's Mailgun backend, unmodified, pointed at the sandbox
(``MAILGUN_API_URL = <sandbox>/v3``)."""

from __future__ import annotations

import json
from typing import Any

import django
import httpx
from django.conf import settings
from django.core.mail import get_connection

from mailsandbox.runner import RunningSandbox
from tests.emulators.mailgun.conftest import DOMAIN, KEY, raw_message, stored, stored_summary
from tests.emulators.mailgun.test_messages import PNG

if not settings.configured:  # Django is configured once per process, by whoever comes first
    settings.configure(
        EMAIL_BACKEND="anymail.backends.mailgun.EmailBackend",
        ANYMAIL={"MAILGUN_API_KEY": KEY, "MAILGUN_SENDER_DOMAIN": DOMAIN},
        INSTALLED_APPS=["anymail"],
    )
    django.setup()

from anymail.message import AnymailMessage  # needs configured settings


def _connection(running: RunningSandbox) -> Any:
    return get_connection(
        "anymail.backends.mailgun.EmailBackend",
        api_key=KEY,
        api_url=f"{running.url}/v3",
        sender_domain=DOMAIN,
    )


def test_anymail_send_with_tags_metadata_attachments_and_inline_image(
    running: RunningSandbox, api: httpx.Client
) -> None:
    message = AnymailMessage(
        subject="Anymail ✓",
        body="plain text",
        from_email="Ann <ann@mg.example.com>",
        to=["bob@example.com", "Carol <carol@example.com>"],
        cc=["cc@example.com"],
        bcc=["bcc@example.com"],
        reply_to=["help@mg.example.com"],
        headers={"X-Campaign": "spring"},
        tags=["anymail", "django"],
        metadata={"order_id": "123"},
        track_clicks=True,
        connection=_connection(running),
    )
    cid = message.attach_inline_image(PNG, filename="logo.png")
    message.attach_alternative(f'<p>Hi <img src="cid:{cid}"></p>', "text/html")
    message.attach("report.csv", "a,b\n1,2\n", "text/csv")
    assert message.send() == 1
    status = message.anymail_status
    assert status.status == {"queued"}
    assert status.message_id.endswith(f"@{DOMAIN}>")

    [summary] = stored(api)
    assert summary["Subject"] == "Anymail ✓"
    assert [a["Address"] for a in summary["To"]] == ["bob@example.com", "carol@example.com"]
    assert summary["Bcc"] == [{"Name": "", "Address": "bcc@example.com"}]
    assert summary["MessageID"] == status.message_id.strip("<>")
    assert sorted(summary["Tags"]) == ["anymail", "django"]
    msg = raw_message(api, summary["ID"])
    assert msg["Reply-To"] == "help@mg.example.com" and msg["X-Campaign"] == "spring"
    inline = next(p for p in msg.walk() if p["Content-ID"] == f"<{cid}>")
    assert inline.get_content() == PNG
    [report] = [p for p in msg.iter_attachments() if p.get_filename() == "report.csv"]
    assert report.get_content().replace("\r\n", "\n") == "a,b\n1,2\n"
    options = stored_summary(running, summary["ID"]).metadata["mailgun"]
    assert options["user_variables"] == {"order_id": "123"}
    assert options["tracking"]["clicks"] == "yes"


def test_anymail_batch_with_merge_data(running: RunningSandbox, api: httpx.Client) -> None:
    message = AnymailMessage(
        subject="Hello %recipient.name%",
        body="Your balance is %recipient.balance%",
        from_email="ann@mg.example.com",
        to=["x@example.com", "y@example.com"],
        merge_data={
            "x@example.com": {"name": "Xavier", "balance": "10"},
            "y@example.com": {"name": "Yvonne", "balance": "20"},
        },
        connection=_connection(running),
    )
    message.send()
    subjects = {m["To"][0]["Address"]: m["Subject"] for m in stored(api)}
    assert subjects == {"x@example.com": "Hello Xavier", "y@example.com": "Hello Yvonne"}
    assert all(len(m["To"]) == 1 for m in stored(api))


def test_anymail_stored_template(running: RunningSandbox, api: httpx.Client) -> None:
    with httpx.Client(base_url=running.url, auth=("api", KEY)) as client:
        answer = client.post(
            f"/v3/{DOMAIN}/templates",
            data={"name": "receipt", "template": "<p>Thanks {{name}}, total {{total}}</p>"},
        )
        assert answer.status_code == 200
    message = AnymailMessage(
        from_email="ann@mg.example.com",
        to=["z@example.com"],
        subject="Receipt",
        connection=_connection(running),
    )
    message.template_id = "receipt"
    message.merge_global_data = {"name": "Zoe", "total": "$5"}
    message.send()
    [summary] = stored(api)
    html = raw_message(api, summary["ID"]).get_body(("html",))
    assert html is not None and html.get_content().strip() == "<p>Thanks Zoe, total $5</p>"
    assert (
        json.loads(json.dumps(stored_summary(running, summary["ID"]).metadata))["mailgun"][
            "template"
        ]
        == "receipt"
    )
