"""Mail *to* the app: the customer answers the support mail (``mailsandbox.reply``), and the
reply reaches the app through its Mailgun inbound webhook, as it would in production."""

from __future__ import annotations

import shop
from django.test import Client, override_settings

from mailsandbox.client.fixture import SandboxInbox


def test_customer_reply_reaches_support(
    mailsandbox: SandboxInbox, client: Client, support_route: str
) -> None:
    anymail = {"WEBHOOK_SECRET": shop.WEBHOOK_AUTH, "MAILGUN_WEBHOOK_SIGNING_KEY": support_route}
    with override_settings(**mailsandbox.django_settings("smtp", anymail)):
        number = client.post("/ticket", {"email": "eve@example.com"}).content.decode()
        msg = mailsandbox.wait_for(to="eve@example.com", timeout=5)
        reply = mailsandbox.reply(msg, text="The parcel arrived damaged.")
        assert reply.subject == f"Re: Ticket {number}: we are on it"
        assert shop.wait_reply(number, timeout=10) == "The parcel arrived damaged."
    assert len(mailsandbox.messages()) == 2  # the ticket mail and the reply, in this inbox
