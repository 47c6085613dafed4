"""An SES message in the UI, as for SendGrid and Mailgun: the provider badge, the SES metadata
(message id, configuration set, tags) and the SNS webhook attempts on the message's page."""

from __future__ import annotations

from typing import Any

import httpx

from mailsandbox.runner import RunningSandbox
from tests.emulators.ses.conftest import Hook, by_ses_id, simple


def test_message_page_shows_ses_badge_metadata_and_attempts(
    running: RunningSandbox, api: httpx.Client, sesv2: Any, hook: Hook
) -> None:
    ses_id = sesv2.send_email(
        FromEmailAddress="shop@example.com",
        Destination={"ToAddresses": ["ann@example.com"]},
        ConfigurationSetName="tracked",
        EmailTags=[{"Name": "campaign", "Value": "spring"}],
        Content=simple(),
    )["MessageId"]
    hook.wait_types(ses_id, ["Send", "Delivery"])
    message_id = by_ses_id(running, api, ses_id).id
    page = api.get(f"/view/{message_id}")
    assert page.status_code == 200
    assert 'class="badge src-ses">Amazon SES</span> metadata' in page.text
    assert ses_id in page.text and "tracked" in page.text and "spring" in page.text
    events = api.get(f"/ui/message/{message_id}/events").text
    assert hook.receiver.url in events.replace("<wbr>", "")  # the SNS POSTs, per attempt
    assert "Amazon SES" in events
