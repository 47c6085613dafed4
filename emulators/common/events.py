"""Helpers every emulator's event formatter shares (SendGrid, Mailgun, SES, Postmark, Resend
render their webhook payloads from the same stored events and messages).

- :func:`provider_meta`: a message's ``{"<provider>": {...}}`` metadata block (the send options
  each emulator stores with the message), ``{}`` when absent or malformed.
- :func:`recipient_of`: whom an event is about (its recipient, else the message's first).
- :func:`address_text`: an address as ``Name <addr>`` (SES's headers, Postmark's From).
- :func:`iso_ms`: ``2017-08-05T00:41:02.669Z``, the ISO 8601 form with milliseconds and ``Z``
  that SES, SNS and Resend put in their payloads.
- :data:`CLIENT_IP`: where simulated opens and clicks come from, and the sending IP.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mailsandbox.mime import Address
from mailsandbox.storage.events import DeliveryEvent
from mailsandbox.storage.messages import MessageSummary

CLIENT_IP = "127.0.0.1"


def provider_meta(message: MessageSummary, provider: str) -> dict[str, Any]:
    found = message.metadata.get(provider) if message.metadata else None
    return found if isinstance(found, dict) else {}


def recipient_of(event: DeliveryEvent, message: MessageSummary) -> str:
    return event.recipient or (message.recipients[0] if message.recipients else "")


def address_text(address: Address) -> str:
    return f"{address.name} <{address.address}>" if address.name else address.address


def iso_ms(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
