"""The shapes inbound routing passes around: the mail being routed, a rule that matched it, and
the deliveries (outbox rows) a match asks for. Routers (one per emulated provider) implement
:class:`InboundRouter`; the core never knows their rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any, Protocol

from mailsandbox import mime
from mailsandbox.mime.headers import split_header_block
from mailsandbox.storage.sql import Connection

META_KEY = "inbound"  # the message metadata key of the match records (present: inbound mail)
HOP_HEADER = "X-Mailsandbox-Inbound-Hop"  # on a message a route re-ingested: never routed again


@dataclass
class InboundMail:
    """A message being written, as a router sees it (inside the message's transaction)."""

    id: str
    raw: bytes
    parsed: mime.ParsedMessage
    mail_from: str
    recipients: list[str]
    _headers: list[tuple[str, str]] | None = field(default=None, repr=False)

    def header_values(self, name: str) -> list[str]:
        """Every decoded value of header ``name`` (parsed on first use: most rules never ask)."""
        if self._headers is None:
            self._headers = [(k.lower(), mime.decode_header_value(v)) for k, v in _fields(self.raw)]
        wanted = name.lower()
        return [value for key, value in self._headers if key == wanted]


def _fields(raw: bytes) -> list[tuple[str, str]]:
    """The header fields, split by hand when the block is plain (the common case), else by the
    email package; the body is never read."""
    end = raw.find(b"\r\n\r\n")
    block = raw if end < 0 else raw[:end]
    head = block.decode("ascii", "surrogateescape")
    if "\r" not in head.replace("\r\n", "") and "\n" not in head.replace("\r\n", ""):
        found = split_header_block(head)
        if found is not None:
            return found
    return list(BytesHeaderParser(policy=compat32).parsebytes(block + b"\r\n\r\n").items())


@dataclass(frozen=True)
class Delivery:
    """One outbox row a match asks for: where to, and what the provider needs to build it."""

    url: str
    payload: dict[str, Any]
    signed: bool = False


@dataclass
class RuleMatch:
    """A rule that matched one envelope recipient, and what it does with the message."""

    rule_id: str
    description: str  # how the user wrote the rule: a hostname, a route expression
    recipient: str
    actions: list[str] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # provider facts (e.g. stored: domain)

    def record(self, provider: str, outbox_ids: list[str]) -> dict[str, Any]:
        """What the message's metadata keeps of this match (the page and the API show it)."""
        return {
            "provider": provider,
            "rule": self.rule_id,
            "description": self.description,
            "recipient": self.recipient,
            "actions": self.actions,
            "deliveries": outbox_ids,
            **self.extra,
        }


class InboundRouter(Protocol):
    """A provider's inbound rules. ``name`` is also the outbox provider of its deliveries."""

    name: str

    def route(self, conn: Connection, mail: InboundMail) -> list[RuleMatch]: ...
