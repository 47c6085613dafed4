"""The SendGrid MIME builder's pre-computed parse must equal parsing the bytes it built.

Ingest skips ``mime.parse_message`` when a door hands it ``Inbound.parsed``, so any difference
here would be a message stored differently through the API than through SMTP.
"""

from __future__ import annotations

import base64
import dataclasses
import itertools
import re
import time
from email.utils import formataddr, formatdate
from typing import Any

import pytest

from mailsandbox import ingest, mime
from mailsandbox.emulators.common import mime_build

NAMES = ["", "Inbox", "Smith, John", "O'Brien Ltd.", 'Say "hi"', "  spaced   out ", "Zoë Ünïcode"]
SUBJECTS = ["hello", "  leading", "x" * 300, "Grüße aus Köln " * 8, "=?utf-8?q?hi?=", "a;b<c>"]
CONTENTS: list[list[tuple[str, str]]] = [
    [("text/plain", "line one\nline two")],
    [("text/html", "<p>Hello <b>there</b></p>")],
    [("text/plain", "plain\r\n"), ("text/html", "<div>html</div>")],
    [("text/plain", "")],
    [],
    # quoted-printable: non-ASCII, long lines, trailing blanks, '=' and lone CRs
    [("text/plain", "non-ASCII body: é, ü, ✓ and 😀\n")],
    [("text/plain", "x" * 2000), ("text/html", "<p>" + "Grüße " * 400 + "</p>")],
    [("text/plain", "trailing blanks \t \nnext=line\r=3D\rend =\n")],
    # other text types are passed over by the parser (amp, calendar)
    [("text/plain", "t"), ("text/x-amp-html", "<html amp4email>é</html>"), ("text/html", "h")],
    [("text/calendar", "BEGIN:VCALENDAR")],
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
    assert all(used)  # every one of these is known without parsing


def test_several_recipients_cc_and_reply_to() -> None:
    many = [{"email": f"user{i}@example.com", "name": f"User Number {i}"} for i in range(8)]
    envelope = _envelope("Sender", "hi", cc=many[:3], reply_to=many[3:5])
    envelope.to = many
    assert _check(envelope, [("text/plain", "body")])


HEADERS: list[dict[str, str]] = [
    {"X-Tags": "a, b"},
    {"X-Sandbox-Inbox": "team"},
    {"X-Custom": "Grüße ✓", "X-Long": "word " * 300, "X-Empty": "", "X-Spaced": "  v  "},
    {"Date": "Thu, 26 Nov 2026 10:00:00 -0000", "Message-ID": "<own@example.com>"},
    {"Bcc": "Hidden <hidden@example.com>", "Return-Path": "<bounce@example.com>"},
    {"X-Mailgun-Variables": '{"user": "ünï", "n": 1}'},
]


@pytest.mark.parametrize("headers", HEADERS)
def test_custom_headers_are_parsed_the_same(headers: dict[str, str]) -> None:
    for contents in CONTENTS[:3]:
        assert _check(_envelope("Sender", "hi", headers=headers), contents)


def test_headers_before_from() -> None:
    first = [("X-Mailgun-Tag", "one"), ("X-Mailgun-Tag", "two"), ("X-Tags", "t")]
    envelope = _envelope("Sender", "hi", first=first)
    assert mime_build.build(envelope, [("text/plain", "b")], []).startswith(
        b"X-Mailgun-Tag: one\r\nX-Mailgun-Tag: two\r\nX-Tags: t\r\nFrom: "
    )
    assert _check(envelope, [("text/plain", "b")])


def test_other_messages_are_left_to_the_parser() -> None:
    envelope = _envelope("Sender", "hi")
    assert not _check(envelope, [("application/json", "{}")])
    assert not _check(envelope, [("multipart/mixed", "x")])
    assert not _check(envelope, [("text/plain", "t"), ("message/rfc822", "Subject: x\n\nx")])
    # Content-* headers change how the body is read; odd names, lone CR/LF in values
    for headers in ({"Content-Disposition": "attachment"}, {"content-id": "<x>"}):
        assert not _check(_envelope("Sender", "hi", headers=headers), [("text/plain", "b")])
    assert not _check(_envelope("Sender", "a\rb"), [("text/plain", "b")])
    assert not _check(_envelope("Sender\n", "hi"), [("text/plain", "b")])
    attachment = {"content": "aGVsbG8=", "filename": "a.txt", "type": "text/plain"}
    raw, parsed = mime_build.build_parsed(envelope, [("text/plain", "b")], [attachment])
    assert parsed is None and raw.count(b"a.txt") == 1


def test_attachment_bytes_or_base64() -> None:
    data = bytes(range(256)) * 4
    encoded = {"content": base64.b64encode(data).decode(), "filename": "a.bin"}
    raw = mime_build.build(_envelope("S", "hi"), [("text/plain", "b")], [encoded])
    as_bytes = {"data": data, "filename": "a.bin"}
    again = mime_build.build(_envelope("S", "hi"), [("text/plain", "b")], [as_bytes])
    strip = re.compile(rb"(Date: [^\r]*|boundary=\"?=*sg[0-9a-f]*=*|--=*sg[0-9a-f]*=*)")
    assert strip.sub(b"", raw) == strip.sub(b"", again)


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


@pytest.mark.parametrize("name", [*NAMES, "a\\b", "x[y]", "a.b", "tab\there", '"quoted"', "Ünï"])
def test_address_is_what_formataddr_writes(name: str) -> None:
    unquoted = name[1:-1] if len(name) >= 2 and name[0] == name[-1] == '"' else name
    for email in ("to@example.com", "TO+tag@example.co.uk"):
        expected = formataddr((unquoted, email), charset="utf-8")
        assert mime_build.address({"name": name, "email": email}) == expected


def test_date_is_formatdate_of_now() -> None:
    before = int(time.time())
    date = mime_build._date_now()
    assert date in {formatdate(t, usegmt=True) for t in range(before, int(time.time()) + 1)}
