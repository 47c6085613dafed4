"""A Resend email in the UI, as for the other providers: the provider badge, the Resend
metadata (id, tags) and the webhook attempts on the message's page; the Rules page shows the
signing secret of the flag webhooks."""

from __future__ import annotations

import httpx

from mailsandbox.runner import RunningSandbox
from tests.emulators.resend.conftest import by_resend_id, email
from tests.sandbox.events.receiver import Receiver


def test_message_page_shows_resend_badge_metadata_and_attempts(
    running: RunningSandbox, api: httpx.Client, rs: httpx.Client, receiver: Receiver
) -> None:
    hook = {"endpoint": f"{receiver.url}/rs", "events": ["email.sent"]}
    assert rs.post("/webhooks", json=hook).status_code == 200
    sent = rs.post("/emails", json=email(tags=[{"name": "campaign", "value": "spring"}])).json()
    receiver.wait_for(1)
    message_id = by_resend_id(running, sent["id"]).id
    page = api.get(f"/view/{message_id}")
    assert page.status_code == 200
    assert 'class="badge src-resend">Resend</span> metadata' in page.text
    assert sent["id"] in page.text and "spring" in page.text
    events = api.get(f"/ui/message/{message_id}/events").text.replace("<wbr>", "")  # URLs break
    assert receiver.url in events and "Resend" in events
    rules = api.get("/ui/rules").text
    secret = running.sandbox.extensions["resend.signer"].account_secret
    assert secret.startswith("whsec_") and secret in rules and "RESEND_SIGNING_SECRET" in rules
