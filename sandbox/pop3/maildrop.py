"""A POP3 session's maildrop: the messages of the login's inboxes when it logged in, numbered.

Taken at a successful PASS, oldest first (message 1 is the oldest, so a client that fetches in
order sees mail in the order it came). Mail arriving later is in the next session's maildrop.
``DELE`` only marks: marked messages disappear from STAT, LIST, UIDL, RETR and TOP at once
(RFC 1939; Mailpit keeps listing them) and are deleted from the sandbox at ``QUIT``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailsandbox.storage import messages
from mailsandbox.storage.sql import Connection

_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)


@dataclass
class Entry:
    number: int
    id: str  # the message's id: its UIDL (unique and never reused)
    size: int  # octets of the stored message
    deleted: bool = False


class Maildrop:
    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries

    @classmethod
    def read(cls, conn: Connection, inboxes: frozenset[str] | None) -> Maildrop:
        """The messages of ``inboxes`` (None: all), oldest first."""
        where, args = messages.visible_sql(inboxes)
        rows = conn.execute(
            f"SELECT id, size FROM messages WHERE {where} ORDER BY created, seq", args
        )
        return cls([Entry(n, row[0], row[1]) for n, row in enumerate(rows, start=1)])

    def live(self) -> list[Entry]:
        return [e for e in self.entries if not e.deleted]

    def get(self, argument: str) -> Entry | None:
        """The message a command's argument names, unless it is marked deleted."""
        if not argument.isdigit():
            return None
        number = int(argument)
        if not 1 <= number <= len(self.entries):
            return None
        entry = self.entries[number - 1]
        return None if entry.deleted else entry

    def stat(self) -> tuple[int, int]:
        live = self.live()
        return len(live), sum(e.size for e in live)

    def reset(self) -> None:
        for entry in self.entries:
            entry.deleted = False

    def marked(self) -> list[str]:
        return [e.id for e in self.entries if e.deleted]


def stuffed(raw: bytes) -> bytes:
    """A message as a multi-line response body: dot-stuffed, ending with CRLF (RFC 1939 §3)."""
    body = _LEADING_DOT.sub(b"..", raw)
    return body if body.endswith(b"\r\n") else body + b"\r\n"


def top(raw: bytes, lines: int) -> bytes:
    """The header, the blank line and the first ``lines`` lines of the body (RFC 1939 TOP)."""
    head, separator, body = raw.partition(b"\r\n\r\n")
    if not separator:
        return raw
    kept = body.split(b"\r\n")[:lines] if lines > 0 else []
    return head + b"\r\n\r\n" + b"\r\n".join(kept)
