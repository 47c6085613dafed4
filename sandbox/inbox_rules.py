"""Inboxes chosen by rule: ``FIELD:PATTERN=INBOX``, e.g. ``to:*@tenant-a.test=tenant-a``.

``FIELD`` is ``to`` (any envelope recipient or To/Cc/Bcc address), ``from`` (the envelope
sender or the From address) or the name of any other header (``x-tenant:acme=acme``,
``subject:*invoice*=billing``: its decoded value). ``PATTERN`` is a shell-style glob (``*``,
``?``, ``[…]``) matched against the whole value, ignoring case; the inbox name comes after the
last ``=``. Rules come from ``--inbox-rule`` (repeatable) and from the API/UI, in that order;
the first that matches wins.

Rules are the fallback: an ``X-Sandbox-Inbox`` header decides first, then the credentials the
message came with (the SMTP user, the ESP API key), and only mail that neither put in an inbox
is looked at by the rules (so the pytest plugin's inbox per test keeps working whatever the
rules say); mail no rule matches goes to ``default``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # (kept out of the import: the settings check parses rules at start-up)
    from email.message import Message

    from mailsandbox.mime import ParsedMessage

MAX_INBOX = 100


class InboxRuleError(ValueError):
    """A rule that cannot be read; the text says why."""


@dataclass(frozen=True)
class InboxRule:
    text: str  # as written: FIELD:PATTERN=INBOX
    field: str  # lower case
    pattern: str  # a glob, matched ignoring case
    inbox: str
    id: str = ""  # set for rules added through the API or UI ("" for --inbox-rule)

    @classmethod
    def parse(cls, text: str, rule_id: str = "") -> InboxRule:
        text = text.strip()
        condition, sep, inbox = text.rpartition("=")
        field, colon, pattern = condition.partition(":")
        field, pattern, inbox = field.strip().lower(), pattern.strip(), inbox.strip()
        if not sep or not colon or not field or not pattern or not inbox:
            raise InboxRuleError(
                f"inbox rule {text!r}: expected FIELD:PATTERN=INBOX"
                " (e.g. to:*@tenant-a.test=tenant-a)"
            )
        if len(inbox) > MAX_INBOX or any(c.isspace() for c in field):
            raise InboxRuleError(f"inbox rule {text!r}: a bad field name or an inbox name too long")
        return cls(f"{field}:{pattern}={inbox}", field, pattern, inbox, rule_id)

    def matches(self, values: Iterable[str]) -> bool:
        pattern = self.pattern.lower()
        return any(fnmatch.fnmatchcase(value.lower(), pattern) for value in values)

    def as_json(self) -> dict[str, str]:
        origin = "api" if self.id else "flag"
        return {"ID": self.id, "Rule": self.text, "Field": self.field, "Pattern": self.pattern,
                "Inbox": self.inbox, "Origin": origin}  # fmt: skip


@dataclass
class Facts:
    """What rules look at, read lazily from one message (headers parsed only if a rule needs)."""

    raw: bytes
    parsed: ParsedMessage
    mail_from: str
    rcpt_tos: list[str]
    headers: Message | None = field(default=None, repr=False)

    def values(self, name: str) -> list[str]:
        p = self.parsed
        if name == "to":
            return [*self.rcpt_tos, *(a.address for a in (*p.to, *p.cc, *p.bcc))]
        if name == "from":
            return [self.mail_from, p.from_.address]
        from email.parser import BytesHeaderParser

        from mailsandbox.mime import decode_header_value

        if self.headers is None:
            self.headers = BytesHeaderParser().parsebytes(self.raw.partition(b"\r\n\r\n")[0])
        return [decode_header_value(value) for value in self.headers.get_all(name) or []]


class InboxRules:
    """The rules in force: those of the command line, then the stored ones, in order."""

    def __init__(self, rules: Iterable[InboxRule] = ()) -> None:
        self.rules = list(rules)

    def __bool__(self) -> bool:
        return bool(self.rules)

    def choose(self, facts: Facts) -> str | None:
        """The inbox of the first rule that matches, or None."""
        for rule in self.rules:
            if rule.matches(facts.values(rule.field)):
                return rule.inbox
        return None


def parse_all(texts: Iterable[str]) -> list[InboxRule]:
    return [InboxRule.parse(text) for text in texts if text.strip()]
