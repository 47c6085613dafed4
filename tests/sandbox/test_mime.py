"""MIME parsing: the fast paths agree with the email package; broken input still parses."""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Callable
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import SMTP, compat32
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

import pytest

from mailsandbox import mime
from mailsandbox.ingest import normalize_line_endings
from mailsandbox.mime import headers as headers_module
from mailsandbox.mime import text as text_module

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


# --- The fast paths of parse_message against the email package, field by field --------------
#
# mime._parse_with_stdlib is parse_message the plain way: the feed parser, headers looked up
# on its Message, each part asked through its Message methods. Every message below, and
# mutations of them, must give the very same ParsedMessage both ways (or the same exception).
# What both ways share (header and address decoding, html_to_text, the snippet, clean) is held
# to its own plain implementation further down.

CORPUS = Path(__file__).parent / "corpus"


def _mail(head: str, body: str = "Hello.\r\n") -> bytes:
    return (head + "\r\n" + body).encode("utf-8", "surrogateescape")


def _built(msg: EmailMessage, boundary: str = "==b==") -> bytes:
    if msg.is_multipart():
        msg.set_boundary(boundary)
    return msg.as_bytes(policy=SMTP)


def _rich_messages() -> dict[str, bytes]:
    alt = EmailMessage()
    alt["From"], alt["To"], alt["Subject"] = "A <a@x.org>", "b@y.org, C <c@z.org>", "Alt"
    alt.set_content("Plain body.\nSecond line.\n")
    alt.add_alternative("<p>HTML <b>body</b></p>", subtype="html")

    mixed = EmailMessage()
    mixed["From"], mixed["Subject"] = "=?utf-8?q?J=C3=B6rg?= <j@x.de>", "Invoice"
    mixed.set_content("See attached.\n")
    mixed.add_attachment(b"%PDF-1.4\n" + bytes(range(256)), maintype="application",
                         subtype="pdf", filename="invoice.pdf")  # fmt: skip
    mixed.add_attachment("a,b\n1,2\n", subtype="csv", filename="data.csv")
    mixed.add_attachment(b"\x00\x01", maintype="application", subtype="octet-stream",
                         filename="Grüße €.bin")  # fmt: skip

    related = EmailMessage()
    related["Subject"] = "Inline"
    related.set_content("Text.\n")
    related.add_alternative('<p>Logo <img src="cid:logo@x"></p>', subtype="html")
    html_part = related.get_payload()[1]
    html_part.add_related(b"\x89PNG\r\n\x1a\n", maintype="image", subtype="png", cid="<logo@x>")

    inner = EmailMessage()
    inner["From"], inner["Subject"] = "inner@x.org", "Inner"
    inner.set_content("Inner body.\n")
    wrapper = EmailMessage()
    wrapper["Subject"] = "Forward"
    wrapper.set_content("See the forwarded message.\n")
    wrapper.add_attachment(inner)

    flat_inline = EmailMessage()
    flat_inline["Subject"] = "Flat inline"
    flat_inline.set_content("Body.\n")
    flat_inline.add_attachment(b"GIF89a", maintype="image", subtype="gif", cid="<g@x>",
                               disposition="inline")  # fmt: skip
    flat_inline.add_attachment(b"GIF89a", maintype="image", subtype="gif", filename="g.gif",
                               disposition="inline")  # fmt: skip

    full = EmailMessage()  # mixed: alternative (text, html), then an attachment
    full["From"], full["To"], full["Subject"] = "Shop <s@x.org>", "c@y.org", "Order"
    full["Date"] = "Thu, 26 Nov 2026 06:00:00 +0000"
    full.set_content("Thanks.\n")
    full.add_alternative("<html><body><p>Thanks&nbsp;<b>a lot</b>.</p></body></html>", "html")
    full.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="o.pdf")

    return {
        "full": _built(full),
        "alternative": _built(alt),
        "mixed": _built(mixed),
        "related": _built(related),
        "rfc822": _built(wrapper),
        "flat inline": _built(flat_inline),
    }


_LEVELS = range(10)  # of nesting: one more than the multipart fast path goes
_MP = 'Subject: mp\r\nContent-Type: multipart/mixed; boundary="B"\r\n'
_TEXT = "Content-Type: text/plain; charset=utf-8\r\n\r\nhi\r\n"

CRAFTED: dict[str, bytes] = {
    "empty": b"",
    "only crlf": b"\r\n",
    "only blank line": b"\r\n\r\n",
    "no headers": b"\r\nbody\r\n",
    "no body": b"Subject: x\r\n\r\n",
    "headers only": b"Subject: x\r\nTo: a@b.c\r\n",
    "headers only, no eol": b"Subject: x",
    "plain": _mail("From: Ann <ann@x.org>\r\nTo: b@y.org\r\nSubject: Hi\r\n"),
    "folded": _mail("Subject: a\r\n  folded\r\n\tand tabbed\r\nTo: a@b.c,\r\n d@e.f\r\n"),
    "folded empty first line": _mail("Subject:\r\n folded only\r\nX-Tags:   \r\n  a, b\r\n"),
    "blank continuation": _mail("Subject: a\r\n \r\n\t\r\nTo: a@b.c\r\n"),
    "empty values": _mail("Subject:\r\nTo:\r\nFrom:   \r\nX-Sandbox-Inbox: \r\n"),
    "no space after colon": _mail("Subject:x\r\nFrom:<a@b.c>\r\n"),
    "encoded words": _mail(
        "From: =?utf-8?q?J=C3=B6rg_M=C3=BCller?= <j@x.de>\r\n"
        "To: =?iso-8859-1?q?Ren=E9?= <r@x.fr>,\r\n =?utf-8?b?5bGx55Sw?= <t@x.jp>\r\n"
        "Cc: =?utf-8?q?Zo=C3=AB?= <z@x.com>, =?bogus?q?x?= <q@x.com>\r\n"
        "Subject: =?utf-8?b?R3LDvMOfZQ==?= =?utf-8?q?_und_mehr?= plain =?broken\r\n"
        "X-Tags: =?utf-8?q?t=C3=A4g?=, two\r\n"
    ),
    "raw utf-8 headers": _mail(
        "From: Jörg <jörg@bücher.de>\r\nTo: Zoë <zoë@x.com>\r\nSubject: Grüße\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n",
        "Grüße.\r\n",
    ),
    "raw latin-1 headers": b"From: Ren\xe9 <r@x.fr>\r\nSubject: caf\xe9\r\n\r\nbody \xe9\r\n",
    "8-bit content-type": b"Content-Type: text/plain; charset=\xff\r\n\r\nx\r\n",
    "8-bit header name": b"Subj\xe9ct: x\r\nTo: a@b.c\r\n\r\nbody\r\n",
    "duplicates": _mail(
        "Subject: one\r\nSubject: two\r\nTo: a@b.c\r\nTo: d@e.f\r\n"
        "Content-Type: text/html\r\nContent-Type: text/plain\r\nMessage-ID: <1@x>\r\n"
        "Message-ID: <2@x>\r\nContent-Disposition: inline\r\ncontent-disposition: attachment\r\n",
        "<p>x</p>\r\n",
    ),
    "line without colon": _mail("Subject: x\r\nnot a header\r\nTo: a@b.c\r\n"),
    "colon first": _mail("Subject: x\r\n: no name\r\nTo: a@b.c\r\n"),
    "space before colon": _mail("Subject : x\r\nTo: a@b.c\r\n"),
    "envelope line": _mail("From someone@x Thu Nov 26 06:00:00 2026\r\nSubject: x\r\n"),
    "envelope line later": _mail("Subject: x\r\nFrom someone@x Thu Nov 26\r\nTo: a@b.c\r\n"),
    "leading whitespace": _mail(" Subject: x\r\nTo: a@b.c\r\n"),
    "control characters": _mail("Subject: a\x0bb\x0cc\x1cd\x1de\x1ef\x85\r\nTo: a@b.c\r\n"),
    "lone LF": b"Subject: x\nTo: a@b.c\n\nbody\nline\n",
    "lone CR": b"Subject: x\rTo: a@b.c\r\rbody\rline\r",
    "mixed endings": b"Subject: x\r\nTo: a@b.c\n\r\nbody\r\n",
    "lone LF in value": b"Subject: a\nb: c\r\nTo: a@b.c\r\n\r\nbody\r\n",
    "dates": _mail("Date: Thu, 26 Nov 2026 06:00:00 +0100\r\nSubject: x\r\n"),
    "bad date": _mail("Date: someday\r\nSubject: x\r\n"),
    "addresses": _mail(
        'From: "Ann, B" <a@b.c>\r\nTo: undisclosed-recipients:;\r\nCc: x (c) <a@b.c>, d@e\r\n'
        "Bcc: a@b.c\r\nReply-To: <r@x.org>\r\nReturn-Path: <bounce@x.org>\r\n"
        "X-Sandbox-Inbox: team\r\n"
    ),
    "quoted-printable": _mail(
        "Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: "
        "quoted-printable\r\n",
        "caf=E9 =\r\nsoft break\r\n",
    ),
    "base64 html": _mail(
        "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n",
        "PHA+SMOpbGxvIDxiPndvcmxkPC9iPjwvcD4=\r\n",
    ),
    "rfc 2231 charset": _mail("Content-Type: text/plain; charset*=us-ascii'en'utf-8\r\n", "x"),
    "invalid type": _mail("Content-Type: text\r\n"),
    "attachment single part": _mail(
        'Content-Type: application/pdf; name="a.pdf"\r\nContent-Disposition: attachment\r\n',
        "%PDF",
    ),
    "filename rfc 2231": _mail(
        "Content-Type: text/plain\r\nContent-Disposition: attachment; "
        "filename*=utf-8''Gr%C3%BC%C3%9Fe.txt\r\n"
    ),
    "message type": b"Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nx\r\n",
    "delivery status": b"Content-Type: message/delivery-status\r\n\r\nA: b\r\n\r\nC: d\r\n",
    "multipart": (_MP + "\r\npreamble\r\n--B\r\n" + _TEXT + "--B\r\n"
                  "Content-Type: text/html\r\n\r\n<p>hi</p>\r\n--B--\r\nepilogue\r\n").encode(),
    "multipart at body start": (_MP + "\r\n--B\r\n" + _TEXT + "--B--").encode(),
    "multipart part without headers": (_MP + "\r\n--B\r\n\r\nbare\r\n--B--\r\n").encode(),
    "multipart empty part": (_MP + "\r\n--B\r\n\r\n--B\r\n" + _TEXT + "--B--\r\n").encode(),
    "multipart headers to boundary": (_MP + "\r\n--B\r\nX: y\r\n--B--\r\n").encode(),
    "multipart adjacent boundaries": (_MP + "\r\n--B\r\n--B\r\n" + _TEXT + "--B--\r\n").encode(),
    "multipart blank after boundary": (_MP + "\r\n--B \r\n" + _TEXT + "--B--\t\r\n").encode(),
    "multipart boundary-like lines": (
        _MP + "\r\n--B\r\n" + _TEXT + "--Bx\r\n--B-\r\n--B---\r\n--B--\r\n"
    ).encode(),
    "multipart no close": (_MP + "\r\n--B\r\n" + _TEXT).encode(),
    "multipart closed first": (_MP + "\r\n--B--\r\n--B\r\n" + _TEXT + "--B--\r\n").encode(),
    "multipart no start": (_MP + "\r\njust text\r\n").encode(),
    "multipart no boundary": b"Content-Type: multipart/mixed\r\n\r\n--B\r\nx\r\n--B--\r\n",
    "multipart empty boundary": b'Content-Type: multipart/mixed; boundary=""\r\n\r\n--\r\n',
    "multipart lone LF": (_MP + "\r\n--B\r\n" + _TEXT + "x\n--B\r\n" + _TEXT + "--B--").encode(),
    "multipart lone CR": (_MP + "\r\n--B\r\n" + _TEXT + "x\r--B\r\n" + _TEXT + "--B--").encode(),
    "multipart digest": b"Content-Type: multipart/digest; boundary=B\r\n\r\n--B\r\n\r\n"
    b"Subject: d\r\n\r\nx\r\n--B--\r\n",
    "multipart nested": (
        _MP + "\r\n--B\r\nContent-Type: multipart/alternative; boundary=C\r\n\r\n--C\r\n"
        + _TEXT + "--C--\r\n--B--\r\n"
    ).encode(),
    "nested": (
        _MP + "\r\n--B\r\nContent-Type: multipart/alternative; boundary=C\r\n\r\npre\r\n"
        "--C\r\n" + _TEXT + "--C\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--C--\r\n"
        "inner epilogue\r\n--B\r\nContent-Type: application/pdf; name=a.pdf\r\n\r\n%PDF\r\n"
        "--B--\r\n"
    ).encode(),
    "nested inner unclosed": (
        _MP + "\r\n--B\r\nContent-Type: multipart/alternative; boundary=C\r\n\r\n--C\r\n"
        + _TEXT + "--B\r\n" + _TEXT + "--B--\r\n"
    ).encode(),
    "nested same boundary": (
        _MP + "\r\n--B\r\nContent-Type: multipart/alternative; boundary=B\r\n\r\n--B\r\n"
        + _TEXT + "--B--\r\n--B--\r\n"
    ).encode(),
    "nested prefix boundary": (
        _MP + "\r\n--B\r\nContent-Type: multipart/alternative; boundary=B--x\r\n\r\n"
        "--B--x\r\n" + _TEXT + "--B--x--\r\n--B--\r\n"
    ).encode(),
    "nested boundary prefix": (
        "Content-Type: multipart/mixed; boundary=B--x\r\n\r\n--B--x\r\n"
        "Content-Type: multipart/alternative; boundary=B\r\n\r\n--B\r\n" + _TEXT
        + "--B--\r\n--B--x--\r\n"
    ).encode(),
    "nested empty": (
        _MP + "\r\n--B\r\nContent-Type: multipart/alternative; boundary=C\r\n\r\n--B--\r\n"
    ).encode(),
    "nested deep": (
        "".join(f"Content-Type: multipart/mixed; boundary=L{n}\r\n\r\n--L{n}\r\n" for n in _LEVELS)
        + _TEXT + "".join(f"--L{n}--\r\n" for n in reversed(_LEVELS))
    ).encode(),
    "nested digest": (
        _MP + "\r\n--B\r\nContent-Type: multipart/digest; boundary=C\r\n\r\n--C\r\n\r\n"
        "Subject: d\r\n\r\nx\r\n--C--\r\n--B--\r\n"
    ).encode(),
    "multipart base64 cte": (_MP + "Content-Transfer-Encoding: base64\r\n\r\n--B\r\n"
                             + _TEXT + "--B--\r\n").encode(),
    "multipart 8-bit part": (_MP + "\r\n--B\r\nContent-Type: text/plain; name=\"\xe9.txt\"\r\n"
                             "\r\n\xe9\r\n--B--\r\n").encode("latin-1"),
    "multipart crlf-ending payload": (
        _MP + "\r\n--B\r\n" + _TEXT + "\r\n\r\n--B\r\n" + _TEXT + "x\r\r\n--B--\r\n"
    ).encode(),
}  # fmt: skip


def _corpus() -> dict[str, bytes]:
    files = {f"corpus {p.name}": p.read_bytes() for p in sorted(CORPUS.glob("*.eml"))}
    return {**files, **_rich_messages(), **CRAFTED}


def _with_crlf() -> dict[str, bytes]:
    """Each message as it comes, and as ingest stores it (lone CR and LF made CRLF)."""
    out: dict[str, bytes] = {}
    for name, raw in _corpus().items():
        out[name] = raw
        normalized = normalize_line_endings(raw)
        if normalized != raw:
            out[f"{name} (CRLF)"] = normalized
    return out


ALL = _with_crlf()


def _outcome(parse: Callable[[bytes], mime.ParsedMessage], raw: bytes) -> object:
    try:
        parsed = parse(raw)
    except Exception as exc:
        return type(exc).__name__
    fields = {f.name: getattr(parsed, f.name) for f in dataclasses.fields(parsed)}
    fields["date"] = repr(parsed.date)  # datetimes compare equal across time zones; repr not
    return fields


@pytest.mark.parametrize("name", list(ALL))
def test_parse_message_matches_the_stdlib_parse(name: str) -> None:
    raw = ALL[name]
    assert _outcome(mime.parse_message, raw) == _outcome(mime._parse_with_stdlib, raw)


def _tree(msg: Message) -> list[object]:
    """Everything of a Message tree that parse_message can read."""
    return [
        (pid, part.items(), part.get_default_type(), part.is_multipart(),
         None if part.is_multipart() else part.get_payload())
        for pid, part in mime.walk_parts(msg)
    ]  # fmt: skip


@pytest.mark.parametrize("name", list(ALL))
def test_fast_load_builds_the_feed_parsers_message(name: str) -> None:
    raw = ALL[name]
    general = message_from_bytes(raw, policy=compat32)
    single = mime.load(raw)  # the public load: single parts only, the Message entire
    assert single.items() == general.items()
    if general.get_boundary() != "":  # for an empty one, as_bytes() makes one up at random
        assert single.as_bytes() == general.as_bytes()
    assert [type(d) for d in single.defects] == [type(d) for d in general.defects]
    fast = mime._load_fast(raw, multipart=True)  # what parse_message parses
    if fast is not None:
        assert _tree(fast[0]) == _tree(general)


FAST = [
    "plain", "folded", "encoded words", "raw utf-8 headers", "raw latin-1 headers",
    "duplicates", "multipart", "multipart at body start", "multipart part without headers",
    "multipart boundary-like lines", "multipart 8-bit part", "multipart crlf-ending payload",
    "full", "alternative", "mixed", "flat inline", "related", "nested", "nested prefix boundary",
    "nested boundary prefix", "corpus otp_ja.eml (CRLF)",
    "corpus password_reset.eml (CRLF)", "lone LF (CRLF)",
]  # fmt: skip


@pytest.mark.parametrize("name", FAST)
def test_plain_mail_takes_the_fast_path(name: str) -> None:
    assert mime._load_fast(ALL[name], multipart=True) is not None


_NOISE = [b"\r", b"\n", b"\r\n", b" ", b"\t", b":", b"-", b"--", b"--B", b"\xff", b"=?", b"\x0c",
          b"\r\n\r\n", b"\r\n ", b"From ", b"\r\n--B\r\n", b"\r\n--B--\r\n", b"\r\n--==b==\r\n",
          b"Content-Type: multipart/mixed; boundary=B\r\n", b"\r\n--C\r\n", b"\r\n--C--\r\n",
          b"Content-Type: multipart/related; boundary=C\r\n", b"Content-Type: message/rfc822\r\n",
          b"Content-Disposition: inline\r\n", b"--\r\n", b"\r\n--B \r\n"]  # fmt: skip


def _mutations(sources: list[bytes], count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        raw = bytearray(rng.choice(sources))
        for _ in range(rng.randint(1, 3)):
            at = rng.randint(0, len(raw))
            if rng.random() < 0.7:
                raw[at:at] = rng.choice(_NOISE)
            else:
                del raw[at : at + rng.randint(1, 8)]
        out.append(bytes(raw))
    return out


def test_mutated_mail_matches_the_stdlib_parse() -> None:
    # mostly CRLF mail, which the fast paths take, so that the mutations land in them
    sources = list(ALL.values()) + [normalize_line_endings(raw) for raw in ALL.values()] * 3
    for raw in _mutations(sources, 4000, seed=20261126):
        assert _outcome(mime.parse_message, raw) == _outcome(mime._parse_with_stdlib, raw), raw


def test_mutated_multipart_mail_matches_the_stdlib_parse() -> None:
    sources = [raw for raw in ALL.values() if _fast_multipart(raw)]
    assert len(sources) >= 8
    mutations = _mutations(sources, 5000, seed=11)
    assert sum(map(_fast_multipart, mutations)) > 1000  # the fast path is what gets tested
    for raw in mutations:
        assert _outcome(mime.parse_message, raw) == _outcome(mime._parse_with_stdlib, raw), raw


def _fast_multipart(raw: bytes) -> bool:
    loaded = mime._load_fast(raw, multipart=True)
    return loaded is not None and loaded[0].is_multipart()


# --- clean() and the snippet against the plain implementations they replace ----------------


def _reference_clean(value: str) -> str:
    value = value.lower()
    for char in '<>",;()':
        value = value.replace(char, " ")
    return " ".join(value.split())


def _reference_snippet(source: str) -> str:
    collapsed = " ".join(source.split())
    encoded = collapsed.encode("utf-8")
    if len(encoded) <= mime.SNIPPET_BYTES:
        return collapsed
    return encoded[: mime.SNIPPET_BYTES].decode("utf-8", "ignore") + "..."


_ALPHABET = ["a", "B", "z", "Q", " ", "  ", "\t", "\r\n", "\n", "\x0b", "\x0c", "\x1c", "\x1f",
             "\x85", "\xa0", "\u2003", "\u3000", "é", "€", "日本", "K", "\u212a", "İ", "<", ">",
             '"', ",", ";", "(", ")", ".", "word", "wörd ", "x@y.z"]  # fmt: skip


def _texts(count: int) -> list[str]:
    rng = random.Random(7)
    texts = ["", " ", "a", "  a  b  ", "\r\n".join(["The quick brown fox, again."] * 200)]
    for _ in range(count):
        size = rng.choice([1, 5, 50, 300, 1200])
        texts.append("".join(rng.choice(_ALPHABET) for _ in range(size)))
    return texts


def test_clean_matches_the_plain_implementation() -> None:
    for text in _texts(1500):
        assert mime.clean(text) == _reference_clean(text), text


def test_snippet_matches_the_plain_implementation() -> None:
    for text in _texts(1500):
        assert mime.snippet_of(text) == _reference_snippet(text), text
        assert mime.make_snippet(text, "") == _reference_snippet(text)


_HTML_GOOD = [
    "<p>", "</p>", "<P CLASS='x'>", "<br>", "<br/>", "<BR/>", "<div id=a>", "</div >", "<td>",
    "</td>", "<table>", "</table>", "<tr>", "<li>", "<h1>", "</h6>", "<b>", "</b>", "</a>",
    '<a href="https://x.org/?a=1&amp;b=2">', '<img src="cid:logo@x" alt="">', "<img src=x />",
    "<head>", "</head>", "<title>", "</title>", "<script>", "</script>", "</SCRIPT >", "<style>",
    "</style>", "<style/>", "<script type='text/javascript'>", "<!-- c -->", "<!--[if mso]>",
    "<![endif]-->", "<!-- a -- >", "<!DOCTYPE html>", "<!doctype x>", ">", "&amp;", "&lt;",
    "&nbsp;", "&#233;", "&#x20AC;", "&bogus;", "&amp", "&", ";", "text", " more text ", "Grüße",
    "\n", "\r\n", "\t", "  ", "\x0c", "\x0b", "\xa0", "x=1", '"', "'", "/", "=", "-->",
    "<o:p>", "</o:p>", "<v:shape id=a>", "<x-y>", "</x-y >", "<a_b>", "<p.x>", "<input disabled>",
    '<td style="a:b; c:d" align=left>', "<a\nhref='x'\n>", "<br\t/>", "<DIV\r\n>", "</LI>",
]  # fmt: skip
_HTML_BAD = [
    "<img src=x/>", "<a b='1'c>", '<a title="x>y">', "<p\x0b>", "</p\x0b>", "<!x>", "<?xml?>",
    "<![CDATA[x]]>", "<", "< p>", "<p", "</", "<-", "<1>", "<!--", "<!doctype", "<a href=x?y=1>",
    "<p\xa0>", "<a\x0cb>", "</p x>", "<p/ >", "<a b=>", "<a =b>", "<:x>", "</p/>",
]  # fmt: skip


def _html_soups(count: int) -> list[str]:
    rng = random.Random(5)
    soups = [
        "",
        "<html><head><title>T</title><style>p{}</style></head><body><p>Hi &amp; bye</p></body>",
        "<p>Plain <b>bold</b><br/>next</p><script>if (a < b) {}</script><div>end</div>",
    ]
    for _ in range(count):
        tokens = [
            rng.choice(_HTML_BAD if rng.random() < 0.02 else _HTML_GOOD)
            for _ in range(rng.randint(1, 40))
        ]
        soups.append("".join(tokens))
    return soups


def test_html_to_text_matches_html_parser() -> None:
    simple = 0
    for markup in _html_soups(4000):
        assert mime.html_to_text(markup) == text_module._html_to_text_with_parser(markup), markup
        simple += text_module._simple_html_parts(markup) is not None
    assert simple > 1000  # the loop over the tags is what gets tested


# --- Address lists against the plain getaddresses() way they used to take -------------------


def _reference_parse_addresses(msg: Message, name: str) -> list[mime.Address]:
    """parse_addresses as it was: one plain mailbox by pattern, anything else getaddresses()."""
    values = msg.get_all(name) or []
    if not values:
        return []
    raw_values = [mime.header_text(v) for v in values]
    if len(raw_values) == 1 and "\n" not in raw_values[0]:
        simple = headers_module._SIMPLE_MAILBOX.fullmatch(raw_values[0])
        if simple:
            quoted, bare, angle, lone = simple.groups()
            display = quoted if quoted is not None else " ".join((bare or "").split())
            return [mime.Address(mime.decode_header_value(display), angle or lone)]
    return [
        mime.Address(mime.decode_header_value(display), addr.strip())
        for display, addr in getaddresses(raw_values)
        if display or addr
    ]


_GOOD_SEPARATORS = [",", ", ", ",\r\n ", ",\r\n\t", " , ", ",\n ", ",\r "]
_ODD_SEPARATORS = [",,", ", ,", "\r\n ,", ",\xa0", ", \x0b", ";", " "]
_GOOD_MAILBOXES = [
    "Bench <bench@example.com>", "a@b.c", '"Ann  Smith" <a@b.c>', "J. Smith <j@x.org>",
    "Ann   Smith <a@b.c>", "=?utf-8?q?J=C3=B6rg?= <j@x.de>", "jörg@bücher.de", "<a@b.c>",
    " <a@b.c> ", "a@b", '"" <a@b.c>', "Ann\tSmith <a@b.c>", "a.b@c.d", "J .Smith <j.s@x.org>",
    "=?utf-8?b?5bGx55Sw?= <t@x.jp>", "A B C <a@b>", "Jörg <jörg@bücher.de>", "a@b.c.",
]  # fmt: skip
_ODD_MAILBOXES = [
    '"Ann, B" <a@b.c>', '"Ann \\"x\\"" <a@b.c>', "undisclosed-recipients:;", "foo", "",
    "x (comment) <a@b.c>", "Ann\r\n Smith <a@b.c>", '"Ann\r\n Smith" <a@b.c>', "\xa0a@b.c",
    "Ann\xa0Smith <a@b.c>", "a@b.c\x1c", "<a@b.c> x", "A <a@b.c> <d@e.f>", "x@y <z@w>",
    '"x@y" <z@w>', "a@b.c (Ann)", "@b.c", "a@", "<>", ".a@b.c", "a..b@c",
]  # fmt: skip


def _address_lists(count: int) -> list[list[str]]:
    rng = random.Random(3)

    def pick(good: list[str], odd: list[str]) -> str:
        return rng.choice(odd if rng.random() < 0.1 else good)

    lists = []
    for _ in range(count):
        value = pick(_GOOD_MAILBOXES, _ODD_MAILBOXES)
        for _ in range(rng.randint(1, 3)):
            value += pick(_GOOD_SEPARATORS, _ODD_SEPARATORS)
            value += pick(_GOOD_MAILBOXES, _ODD_MAILBOXES)
        more = [pick(_GOOD_MAILBOXES, _ODD_MAILBOXES)] if rng.random() < 0.2 else []
        lists.append([value, *more])
    return lists


def test_address_lists_match_getaddresses() -> None:
    split = 0
    for values in _address_lists(3000):
        msg = Message()
        for value in values:
            msg["To"] = value
        assert mime.parse_addresses(msg, "To") == _reference_parse_addresses(msg, "To"), values
        split += headers_module._simple_list([mime.header_text(v) for v in values]) is not None
    assert split > 500  # the split lists are what gets tested


_WHITE = [" ", "  ", "\t", "\r", "\n", "\r\n", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\xa0",
          "\u2028", "\u3000", "a", "bc", "\n \n", "x y"]  # fmt: skip


def test_tidy_matches_the_regular_expressions() -> None:
    rng = random.Random(9)
    for _ in range(3000):
        parts = ["".join(rng.choice(_WHITE) for _ in range(rng.randint(0, 6))) for _ in range(5)]
        text = re.sub(r"[ \t\r\f\v]+", " ", "".join(parts))
        assert text_module._tidy(parts) == re.sub(r"\s*\n\s*", "\n", text).strip(), parts


@pytest.mark.parametrize(
    "value",
    [
        "Sat, 05 Dec 2026 07:41:31 +0000",
        "Sat, 05 Dec 2026 07:41:31 GMT",
        "5 Dec 2026 07:41:31 -0500",
        "Sat, 05 Dec 2026 07:41:31 -0000",  # no zone information: a naive datetime
        "not a date",
        "Sat, 05 Foo 2026 07:41:31 +0000",
    ],
)
def test_parse_date_remembers_the_last_answer_and_gives_the_plain_parse(value: str) -> None:
    """parse_date keeps its last answer (the fast path): it must equal the plain parse,
    first and again, and after another value."""
    try:
        plain = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        plain = None
    for _ in range(2):
        found = mime.parse_date(value)
        assert found == plain and repr(found) == repr(plain)
    mime.parse_date("Thu, 01 Jan 1970 00:00:00 +0000")
    assert repr(mime.parse_date(value)) == repr(plain)
