"""A Postmark message in the UI, as for the other providers: the provider badge, the Postmark
metadata (MessageID, stream, tag, metadata) and the webhook attempts on the message's page."""

from __future__ import annotations

import httpx

from mailsandbox.runner import RunningSandbox
from tests.emulators.postmark.conftest import by_postmark_id, make_webhook, message
from tests.sandbox.events.receiver import Receiver


def test_message_page_shows_postmark_badge_metadata_and_attempts(
    running: RunningSandbox, api: httpx.Client, pm: httpx.Client, receiver: Receiver
) -> None:
    make_webhook(pm, f"{receiver.url}/pm")
    sent = pm.post("/email", json=message(Tag="spring", Metadata={"campaign": "launch"})).json()
    receiver.wait_for(1)
    message_id = by_postmark_id(running, sent["MessageID"]).id
    page = api.get(f"/view/{message_id}")
    assert page.status_code == 200
    assert 'class="badge src-postmark">Postmark</span> metadata' in page.text
    assert sent["MessageID"] in page.text and "spring" in page.text and "launch" in page.text
    events = api.get(f"/ui/message/{message_id}/events").text.replace("<wbr>", "")  # URLs break
    assert receiver.url in events  # the webhook POST, logged per attempt
    assert "Postmark" in events
