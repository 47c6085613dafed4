"""django-anymail's SendGrid backend, unmodified, pointed at the sandbox."""

from __future__ import annotations

import httpx
import pytest

from mailsandbox.runner import RunningSandbox
from tests.emulators.django_settings import configure
from tests.emulators.sendgrid.helpers import listed, metadata, raw_message


@pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning")
def test_anymail_message_with_attachment_and_metadata(
    running: RunningSandbox, http: httpx.Client
) -> None:
    configure()  # Django settings, once per process
    from anymail.message import AnymailMessage
    from django.core.mail import get_connection

    connection = get_connection(
        "anymail.backends.sendgrid.EmailBackend",
        api_key="SG.anymail",
        api_url=running.url + "/v3/",  # what ANYMAIL["SENDGRID_API_URL"] would say
    )
    message = AnymailMessage(
        subject="From Django",
        body="text part",
        from_email="app@example.com",
        to=["Bob <bob@example.com>"],
        cc=["carol@example.com"],
        bcc=["hidden@example.com"],
        tags=["signup"],
        metadata={"user_id": "42"},
        connection=connection,
    )
    message.attach_alternative("<p>html part</p>", "text/html")
    message.attach("data.csv", "a,b\n1,2\n", "text/csv")
    assert message.send() == 1
    status = message.anymail_status
    assert status.status == {"queued"}

    [stored] = listed(http)
    assert stored["Subject"] == "From Django"
    assert stored["To"] == [{"Name": "Bob", "Address": "bob@example.com"}]
    assert stored["Bcc"] == [{"Name": "", "Address": "hidden@example.com"}]
    msg = raw_message(http, stored["ID"])
    assert msg.get_body(("html",)).get_content().strip() == "<p>html part</p>"  # type: ignore[union-attr]
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_filename() == "data.csv"
    assert attachment.get_content().replace("\r\n", "\n") == "a,b\n1,2\n"
    meta = metadata(running, stored["ID"])
    assert meta["categories"] == ["signup"]
    assert meta["custom_args"]["user_id"] == "42"
    assert meta["custom_args"]["anymail_id"] == status.message_id
    summary_inbox = running.sandbox.db.read_sync(
        lambda conn: conn.execute("SELECT inbox FROM messages").fetchone()[0]
    )
    assert summary_inbox == "SG.anymail"
