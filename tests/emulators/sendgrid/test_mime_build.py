"""The SendGrid MIME builder's pre-computed parse must equal parsing the bytes it built.

Ingest skips ``mime.parse_message`` when a door hands it ``Inbound.parsed``, so any difference
here would be a message stored differently through the API than through SMTP.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import pytest

from emulators.sendgrid import mime_build
from sandbox import ingest, mime

NAMES = ["", "Inbox", "Smith, John", "O'Brien Ltd.", 'Say "hi"', "  spaced   out ", "Zoë Ünïcode"]
SUBJECTS = ["hello", "  leading", "x" * 300, "Grüße aus Köln " * 8, "=?utf-8?q?hi?=", "a;b<c>"]
CONTENTS: list[list[tuple[str, str]]] = [
    [("text/plain", "line one\nline two")],
    [("text/html", "<p>Hello <b>there</b></p>")],
    [("text/plain", "plain\r\n"), ("text/html", "<div>html</div>")],
    [("text/plain", "")],
    [],
]


def _envelope(name: str, subject: str, **extra: Any) -> mime_build.Envelope:
    return mime_build.Envelope(
        sender={"email": "sender@example.com", "name": name},
        to=[{"email": "to@example.com", "name": name}],
        subject=subject,
        message_id="<abc123@mailsandbox>",
        **extra,
    )


def _check(envelope: mime_build.Envelope, contents: list[tuple[str, str]]) -> bool:
    raw, parsed = mime_build.build_parsed(envelope, contents, [])
    if parsed is None:
        return False
    assert dataclasses.asdict(parsed) == dataclasses.asdict(mime.parse_message(raw))
    return True


@pytest.mark.parametrize(("name", "subject"), list(itertools.product(NAMES, SUBJECTS)))
def test_precomputed_parse_equals_parsing_the_bytes(name: str, subject: str) -> None:
    used = [_check(_envelope(name, subject), contents) for contents in CONTENTS]
    assert any(used)


def test_several_recipients_cc_and_reply_to() -> None:
    many = [{"email": f"user{i}@example.com", "name": f"User Number {i}"} for i in range(8)]
    envelope = _envelope("Sender", "hi", cc=many[:3], reply_to=many[3:5])
    envelope.to = many
    assert _check(envelope, [("text/plain", "body")])


def test_other_messages_are_left_to_the_parser() -> None:
    envelope = _envelope("Sender", "hi")
    assert not _check(envelope, [("text/plain", "non-ASCII body: é")])
    assert not _check(envelope, [("text/calendar", "BEGIN:VCALENDAR")])
    assert not _check(envelope, [("text/plain", "x" * 2000)])
    assert not _check(_envelope("Sender", "hi", headers={"X-Tags": "a"}), [("text/plain", "b")])
    attachment = {"content": "aGVsbG8=", "filename": "a.txt", "type": "text/plain"}
    raw, parsed = mime_build.build_parsed(envelope, [("text/plain", "b")], [attachment])
    assert parsed is None and raw.count(b"a.txt") == 1


def test_ingest_uses_it_only_for_bytes_stored_as_they_are() -> None:
    raw, parsed = mime_build.build_parsed(_envelope("S", "hi"), [("text/plain", "b")], [])
    assert parsed is not None
    inbound = ingest.Inbound(raw=raw, rcpt_tos=["to@example.com", "hidden@example.com"])
    inbound.parsed = parsed
    new = ingest.prepare(inbound)
    assert new.parsed.bcc == [mime.Address("", "hidden@example.com")]
    assert parsed.bcc == []  # the door's copy is left alone
    via_parse = ingest.prepare(dataclasses.replace(inbound, parsed=None))
    assert dataclasses.asdict(new.parsed) == dataclasses.asdict(via_parse.parsed)
    assert new.raw == via_parse.raw
    # a lone CR makes ingest rewrite the bytes: the pre-computed parse is not used then
    subject_cr = mime_build.build_parsed(_envelope("S", "a\rb"), [("text/plain", "b")], [])
    lone_cr = ingest.Inbound(raw=subject_cr[0], parsed=subject_cr[1])
    rewritten = ingest.prepare(lone_cr)
    assert rewritten.raw != subject_cr[0]
    assert rewritten.parsed.subject == mime.parse_message(rewritten.raw).subject
