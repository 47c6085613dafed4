"""Helpers for the inbound tests: mail in over SMTP (its stored ID from the 250 reply), what
``GET /api/v1/message/{id}/inbound`` says of a message, and the parts of a posted form."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import httpx

from mailsandbox.runner import RunningSandbox
from tests.sandbox.smtp.helpers import deliver


def smtp_in(
    running: RunningSandbox,
    to: list[str],
    subject: str = "Hello",
    body: str = "Hi",
    sender: str = "ann@example.com",
) -> str:
    """Send a plain message over SMTP; its ID (a forwarded copy with the same subject may be
    stored before a search could tell them apart)."""
    msg = EmailMessage()
    msg["From"] = f"Ann <{sender}>"
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg.set_content(body)
    with smtplib.SMTP(running.smtp_host, running.smtp_port) as client:
        return deliver(client, msg.as_bytes(), to, sender)


def inbound_of(running: RunningSandbox, message_id: str) -> dict[str, Any]:
    answer = httpx.get(f"{running.url}/api/v1/message/{message_id}/inbound")
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def delivery_states(running: RunningSandbox, message_id: str) -> set[str]:
    """The states of every delivery the message's matching rules asked for."""
    matches = inbound_of(running, message_id)["Matches"]
    return {d["State"] for m in matches for d in m["Deliveries"]}


@dataclass(frozen=True)
class FormPart:
    name: str
    filename: str | None
    content_type: str
    data: bytes

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")


def multipart_parts(content_type: str, body: bytes) -> list[FormPart]:
    """A ``multipart/form-data`` body's parts, in order (read with the email package, not with
    the code under test)."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=policy.default).parsebytes(head + body)
    assert message.is_multipart(), content_type
    parts = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_param("filename", header="content-disposition")
        payload = part.get_payload(decode=True)
        parts.append(
            FormPart(
                str(name),
                str(filename) if filename is not None else None,
                part.get_content_type() if part.get("Content-Type") else "",
                payload if isinstance(payload, bytes) else b"",
            )
        )
    return parts
