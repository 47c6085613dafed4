"""Typed results of the client: messages, summaries, attachments, links, codes, events, inboxes.

Built from the REST API's JSON (Mailpit's shapes for messages, ours for the extensions).
``Link`` and ``Code`` are strings (the URL, the code) that also carry where they came from, so
``client.get(msg.links(containing="/confirm")[0])`` just works.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from mailsandbox.extract import find_codes, find_links


@dataclass(frozen=True)
class Address:
    name: str
    address: str

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Address:
        data = data or {}
        return cls(str(data.get("Name", "")), str(data.get("Address", "")))

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>" if self.name else self.address


def _addresses(items: list[dict[str, Any]] | None) -> list[Address]:
    return [Address.from_json(item) for item in items or []]


class Link(str):
    """A URL found in a message, with its anchor text, its part and its unwrapped target."""

    text: str
    part: str
    target: str

    def __new__(cls, url: str, text: str = "", part: str = "", target: str = "") -> Link:
        link = super().__new__(cls, url)
        link.text, link.part, link.target = text, part, target
        return link

    @property
    def url(self) -> str:
        return str(self)


class Code(str):
    """A one-time code found in a message, with the line it was found on."""

    context: str

    def __new__(cls, code: str, context: str = "") -> Code:
        item = super().__new__(cls, code)
        item.context = context
        return item


@dataclass(frozen=True)
class Envelope:
    """What a :class:`Summary` and a :class:`Message` both have."""

    id: str
    message_id: str
    subject: str
    from_: Address
    to: list[Address]
    cc: list[Address]
    bcc: list[Address]
    tags: list[str]
    size: int


def _envelope(data: dict[str, Any]) -> dict[str, Any]:
    """The :class:`Envelope` fields of a message's JSON, by attribute name."""
    return {
        "id": str(data["ID"]),
        "message_id": str(data.get("MessageID", "")),
        "subject": str(data.get("Subject", "")),
        "from_": Address.from_json(data.get("From")),
        "to": _addresses(data.get("To")),
        "cc": _addresses(data.get("Cc")),
        "bcc": _addresses(data.get("Bcc")),
        "tags": list(data.get("Tags") or []),
        "size": int(data.get("Size", 0)),
    }


def filter_links(links: list[Link], containing: str | None) -> list[Link]:
    if containing is None:
        return links
    return [link for link in links if containing in link or containing in link.target]


@dataclass(frozen=True)
class Attachment:
    part_id: str
    filename: str
    content_type: str
    content_id: str
    size: int
    checksums: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Attachment:
        return cls(
            part_id=str(data["PartID"]),
            filename=str(data.get("FileName", "")),
            content_type=str(data.get("ContentType", "")),
            content_id=str(data.get("ContentID", "")),
            size=int(data.get("Size", 0)),
            checksums=dict(data.get("Checksums") or {}),
        )


@dataclass(frozen=True)
class File:
    """A file for mail sent in (:meth:`Client.inbound`, :meth:`Client.reply`); a
    ``content_id`` makes it an inline part (``<img src="cid:...">``)."""

    filename: str
    data: bytes
    content_type: str = ""  # guessed from the bytes and the name when empty
    content_id: str = ""

    def as_json(self) -> dict[str, str]:
        return {
            "Filename": self.filename,
            "Content": base64.b64encode(self.data).decode("ascii"),
            "ContentType": self.content_type,
            "ContentID": self.content_id,
        }


@dataclass(frozen=True)
class Summary(Envelope):
    """A message as lists, searches and waits return it (no bodies)."""

    created: str
    attachments: int
    snippet: str
    read: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Summary:
        return cls(
            **_envelope(data),
            created=str(data.get("Created", "")),
            attachments=int(data.get("Attachments", 0)),
            snippet=str(data.get("Snippet", "")),
            read=bool(data.get("Read", False)),
        )


@dataclass(frozen=True)
class Finding:
    """One deliverability finding (GET /api/v1/message/{ID}/lint); see docs/checks.md."""

    id: str
    severity: str  # "error", "warning" or "info"
    title: str
    why: str
    url: str
    details: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        return cls(
            id=str(data["ID"]),
            severity=str(data["Severity"]),
            title=str(data.get("Title", "")),
            why=str(data.get("Why", "")),
            url=str(data.get("URL", "")),
            details=tuple(str(d) for d in data.get("Details") or []),
        )

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        return f"{self.severity}: {self.title} ({self.id})"


@dataclass
class Esp:
    """What the SendGrid or Mailgun API was told about a message (GET
    /api/v1/message/{ID}/esp): ``categories`` are SendGrid categories or Mailgun tags,
    ``variables`` SendGrid custom args or Mailgun user variables; ``sendgrid``/``mailgun`` hold
    everything the emulator kept. Empty (``provider == ""``) for mail that came over SMTP."""

    provider: str = ""
    categories: list[str] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    sendgrid: dict[str, Any] | None = None
    mailgun: dict[str, Any] | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Esp:
        return cls(
            provider=str(data.get("Provider") or ""),
            categories=[str(c) for c in data.get("Categories") or []],
            variables=dict(data.get("Variables") or {}),
            sendgrid=data.get("SendGrid"),
            mailgun=data.get("Mailgun"),
        )


@dataclass(frozen=True)
class Message(Envelope):
    """A whole message (GET /api/v1/message/{ID}); links and codes are read from its bodies,
    ``esp`` from GET /api/v1/message/{ID}/esp (the client fetches both)."""

    reply_to: list[Address]
    return_path: str
    date: str
    username: str
    text: str
    html: str
    attachments: list[Attachment]
    inline: list[Attachment]
    esp: Esp = field(default_factory=Esp)
    # Set by the sync client that fetched it, so ``msg.lint()`` can ask the sandbox.
    _linter: Callable[[Message], list[Finding]] | None = field(
        default=None, repr=False, compare=False
    )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        return cls(
            **_envelope(data),
            reply_to=_addresses(data.get("ReplyTo")),
            return_path=str(data.get("ReturnPath", "")),
            date=str(data.get("Date", "")),
            username=str(data.get("Username", "")),
            text=str(data.get("Text", "")),
            html=str(data.get("HTML", "")),
            attachments=[Attachment.from_json(a) for a in data.get("Attachments") or []],
            inline=[Attachment.from_json(a) for a in data.get("Inline") or []],
        )

    @property
    def recipients(self) -> list[str]:
        return [a.address for a in (*self.to, *self.cc, *self.bcc)]

    def links(self, containing: str | None = None) -> list[Link]:
        """Every link of the HTML and text parts (HTML first), optionally only those containing
        a substring (in the URL or in a tracking-wrapped link's target)."""
        found = find_links(self.text, self.html)
        return filter_links([Link(f.url, f.text, f.part, f.target) for f in found], containing)

    def codes(self) -> list[Code]:
        """One-time codes in the message, best first."""
        return [Code(c.code, c.context) for c in find_codes(self.text, self.html)]

    def bound(self, linter: Callable[[Message], list[Finding]]) -> Message:
        """This message, able to :meth:`lint` itself through ``linter`` (a client's ``lint``)."""
        return replace(self, _linter=linter)

    def lint(self) -> list[Finding]:
        """Deliverability findings for this message, errors first (asks the sandbox).

        ``assert not [f for f in msg.lint() if f.is_error]``. Works on messages a sync
        :class:`~mailsandbox.client.Client` (or the pytest fixture) returned; with the async
        client use ``await client.lint(msg)``.
        """
        if self._linter is None:
            raise RuntimeError(
                "msg.lint() needs a message fetched by a sync Client; use `await client.lint(msg)`"
            )
        return self._linter(self)


@dataclass(frozen=True)
class Event:
    """A delivery event (queued, delivered, bounced, opened, clicked...)."""

    id: str
    message_id: str
    recipient: str
    type: str
    created: str
    reason: str = ""
    code: int | str | None = None
    provider: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Event:
        return cls(
            id=str(data.get("ID", "")),
            message_id=str(data.get("MessageID", "")),
            recipient=str(data.get("Recipient", "")),
            type=str(data.get("Type", "")),
            created=str(data.get("Created", "")),
            reason=str(data.get("Reason") or ""),
            code=data.get("Code"),
            provider=str(data.get("Provider") or ""),
            details=dict(data.get("Details") or {}),
        )


@dataclass(frozen=True)
class Inbox:
    """One inbox as GET /api/v1/inboxes lists it."""

    name: str
    messages: int
    unread: int
    latest: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Inbox:
        return cls(
            name=str(data["Name"]),
            messages=int(data.get("Messages", 0)),
            unread=int(data.get("Unread", 0)),
            latest=str(data.get("Latest", "")),
        )


@dataclass(frozen=True)
class Delivery:
    """One webhook delivery attempt (GET /api/v1/webhooks/deliveries)."""

    id: str
    attempt: int
    provider: str
    url: str
    message_id: str
    event_id: str
    status: int | None
    ok: bool
    state: str
    error: str = ""
    response: str = ""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Delivery:
        return cls(
            id=str(data.get("ID", "")),
            attempt=int(data.get("Attempt") or 0),
            provider=str(data.get("Provider") or ""),
            url=str(data.get("URL") or ""),
            message_id=str(data.get("MessageID") or ""),
            event_id=str(data.get("EventID") or ""),
            status=data.get("Status"),
            ok=bool(data.get("OK")),
            state=str(data.get("State") or ""),
            error=str(data.get("Error") or ""),
            response=str(data.get("Response") or ""),
        )
