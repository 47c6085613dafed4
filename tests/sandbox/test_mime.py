"""MIME parsing: the fast paths agree with the email package; broken input still parses."""

from __future__ import annotations

from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import compat32
from email.utils import getaddresses

import pytest

from sandbox import mime

MAILBOXES = [
    "Bench <bench@example.com>", "a@b.c", '"Ann, B" <a@b.c>', '"Ann  Smith" <a@b.c>',
    "J. Smith <j@x.org>", "Ann   Smith <a@b.c>", "=?utf-8?q?J=C3=B6rg?= <j@x.de>",
    "jörg@bücher.de", "Jörg <jörg@bücher.de>", "a@b.c, d@e.f", "undisclosed-recipients:;",
    "x (comment) <a@b.c>", "<a@b.c>", " <a@b.c> ", "a@b", '"" <a@b.c>', '"Ann \\"x\\"" <a@b.c>',
    "foo", "",
]  # fmt: skip


@pytest.mark.parametrize("value", MAILBOXES)
def test_address_fast_path_matches_getaddresses(value: str) -> None:
    msg = Message()
    msg["To"] = value
    general = [
        mime.Address(mime.decode_header_value(name), addr.strip())
        for name, addr in getaddresses([value])
        if name or addr
    ]
    assert mime.parse_addresses(msg, "To") == general


RAWS = [
    b"From: a@b.c\r\nSubject: x\r\n\r\nbody\r\nline\r\n",
    b"Subject: x\r\n\r\n",
    b"Subject: x\r\nnot a header\r\n\r\nbody\r\n",
    b"\r\nbody\r\n\r\nx",
    b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nhi\r\n--b--\r\n",
    b"Subject: \xff\xfe\r\n\r\n\xff body\r\n",
    b"Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nx\r\n",
    b"Subject: a\r\n folded\r\n\r\nb\r\n\r\n\r\nc",
    b"X: y\r\n\r\n\r\n",
]


@pytest.mark.parametrize("raw", RAWS)
def test_single_part_fast_load_matches_the_feed_parser(raw: bytes) -> None:
    fast, general = mime.load(raw), message_from_bytes(raw, policy=compat32)
    assert fast.items() == general.items()
    assert fast.as_bytes() == general.as_bytes()
    assert len(fast.defects) == len(general.defects)
    if not general.is_multipart():
        assert fast.get_payload() == general.get_payload()


def test_raw_utf8_headers_are_decoded() -> None:
    raw = "From: Jörg <jörg@bücher.example>\r\nTo: Zoë <zoë@exämple.com>\r\nSubject: Grüße\r\n\r\n"
    parsed = mime.parse_message(raw.encode())
    assert parsed.from_ == mime.Address("Jörg", "jörg@bücher.example")
    assert parsed.to == [mime.Address("Zoë", "zoë@exämple.com")]
    assert parsed.subject == "Grüße"


def test_latin1_garbage_falls_back() -> None:
    parsed = mime.parse_message(b"Subject: caf\xe9\r\n\r\nx\r\n")
    assert parsed.subject == "café"


def test_parts_snippet_and_search_text() -> None:
    msg = EmailMessage()
    msg["From"] = "Ann <ann@example.com>"
    msg["To"] = "bob@example.com"
    msg["Subject"] = "Report"
    msg.set_content("Plain words here.")
    msg.add_alternative("<p>Hello <b>HTML</b> world</p><script>x()</script>", subtype="html")
    msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="r.pdf")
    parsed = mime.parse_message(msg.as_bytes())
    assert parsed.text.strip() == "Plain words here."
    assert parsed.snippet == "Hello HTML world"
    assert [(p.part_id, p.filename, p.size) for p in parsed.attachments] == [("2", "r.pdf", 8)]
    assert "hello html world" in parsed.search_text and "r.pdf" in parsed.search_text
    assert "x()" not in parsed.search_text
    part = mime.find_part(mime.load(msg.as_bytes()), "2")
    assert part is not None and mime.decode_payload(part) == b"%PDF-1.4"


def test_clean_matches_mailpit_normalisation() -> None:
    assert mime.clean('  Hello,\r\n"World" <x@y>; (a)\t') == "hello world x@y a"
