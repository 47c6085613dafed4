"""A message a JSON send API describes field by field (Postmark, Resend), and its stored form.

The provider's checks read a request into a subclass of :class:`Composed` (adding its own
options); :meth:`Composed.inbound` writes the MIME message with the shared writer (and the
parse ingest can then skip) and wraps it for the shared ingest path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mailsandbox.emulators.common import mime_build
from mailsandbox.ingest import Inbound

Entry = dict[str, str]  # {"name", "email"}, as the writer takes addresses


@dataclass
class Composed:
    sender: Entry
    to: list[Entry]
    cc: list[Entry]
    bcc: list[Entry]
    reply_to: list[Entry]
    subject: str
    text: str
    html: str
    headers: dict[str, str]
    attachments: list[dict[str, Any]]

    @property
    def recipients(self) -> list[str]:
        """The envelope recipients, each once."""
        return list(dict.fromkeys(e["email"] for e in (*self.to, *self.cc, *self.bcc)))

    @property
    def bodies(self) -> list[tuple[str, str]]:
        """``(content type, text)`` of the bodies given (a blank text one when none is)."""
        found = [("text/plain", self.text), ("text/html", self.html)]
        return [(kind, value) for kind, value in found if value] or [("text/plain", "")]

    def inbound(
        self, message_id: str, *, source: str, key: str, tags: list[str], metadata: dict[str, Any]
    ) -> Inbound:
        """The stored form: ``message_id`` is the Message-ID header's value (without <>),
        ``key`` the caller's API key or token (it names the inbox)."""
        envelope = mime_build.Envelope(
            sender=self.sender,
            to=self.to,
            cc=self.cc,
            reply_to=self.reply_to,
            subject=self.subject,
            headers=self.headers,
            message_id=f"<{message_id}>",
        )
        raw, parsed = mime_build.build_parsed(envelope, self.bodies, self.attachments)
        return Inbound(
            raw=raw,
            mail_from=self.sender["email"],
            rcpt_tos=self.recipients,
            source=source,
            username=key,
            inbox=key or "default",
            tags=tags,
            metadata=metadata,
            parsed=parsed,
        )
