"""The Mailgun builder's pre-computed parse must equal parsing the bytes it built.

Ingest skips ``mime.parse_message`` when a door hands it ``Inbound.parsed``, so any difference
here would be a message stored differently through the API than through SMTP.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import pytest

from mailsandbox import ingest, mime
from mailsandbox.emulators.mailgun.forms import FilePart
from mailsandbox.emulators.mailgun.mime_build import Content, build, build_parsed

BODIES: list[dict[str, str]] = [
    {"text": "plain body"},
    {"html": "<p>html <b>body</b></p>"},
    {"text": "plain", "html": "<p>html</p>", "amp_html": "<html amp4email>amp</html>"},
    {"text": "Grüße ✓\n" + "long line " * 200, "html": "<p>" + "é" * 500 + "</p>"},
    {"amp_html": "<html amp4email>only amp</html>"},
]
EXTRAS: list[dict[str, Any]] = [
    {},
    {"tags": ["welcome", "onboarding"]},
    {"variables": {"user-id": "42", "name": "Zoë"}},
    {"headers": {"X-Custom": "custom value", "Reply-To": "support@mg.example.com"}},
    {"headers": {"Subject": "replaced", "X-Mailgun-Variables": '{"a": 1}', "X-Tags": "x, y"}},
    {"headers": {"Bcc": "hidden@example.com", "X-Long": "word " * 300}},
    {"cc": [("Carol", "carol@example.com"), ("", "dave@example.com")]},
]


def _content(**fields: Any) -> Content:
    base: dict[str, Any] = {
        "sender": ("Ann Sender", "ann@mg.example.com"),
        "to": [("", "bob@example.com"), ("Smith, John", "john@example.com")],
        "cc": [],
        "subject": "Hello ✓",
        "message_id": "20261126.abc@mg.example.com",
    }
    return Content(**{**base, **fields})


def _same(content: Content) -> bool:
    raw, parsed = build_parsed(content)
    if parsed is None:
        return False
    assert dataclasses.asdict(parsed) == dataclasses.asdict(mime.parse_message(raw))
    return True


@pytest.mark.parametrize(("body", "extra"), list(itertools.product(BODIES, EXTRAS)))
def test_precomputed_parse_equals_parsing_the_bytes(
    body: dict[str, str], extra: dict[str, Any]
) -> None:
    assert _same(_content(**body, **extra))


def test_build_is_build_parsed_bytes() -> None:
    content = _content(text="t", tags=["a"], variables={"v": 1})
    first, second = build(content), build_parsed(content)[0]
    # the Date line is the only one that may differ between two builds (the clock)
    assert [x for x in first.split(b"\r\n") if not x.startswith(b"Date: ")] == [
        x for x in second.split(b"\r\n") if not x.startswith(b"Date: ")
    ]
    assert first.startswith(b"X-Mailgun-Tag: a\r\nFrom: Ann Sender <ann@mg.example.com>\r\n")


def test_files_and_odd_headers_are_left_to_the_parser() -> None:
    png = FilePart("attachment", "a.png", "image/png", b"\x89PNG\r\n" + bytes(range(256)))
    assert not _same(_content(text="t", attachments=[png]))
    assert not _same(_content(html="<img src=cid:a.png>", inlines=[png]))
    assert not _same(_content(text="t", headers={"Content-Disposition": "attachment"}))
    assert not _same(_content(text="t", headers={"X-Bad": "a\rb"}))


def test_ingest_stores_the_same_either_way() -> None:
    content = _content(text="plain", html="<p>html</p>", tags=["t"], variables={"k": "v"})
    raw, parsed = build_parsed(content)
    assert parsed is not None
    inbound = ingest.Inbound(
        raw=raw,
        mail_from="ann@mg.example.com",
        rcpt_tos=["bob@example.com", "john@example.com", "hidden@example.com"],
        source="mailgun",
        tags=["t"],
        parsed=parsed,
    )
    fast = ingest.prepare(inbound)
    slow = ingest.prepare(dataclasses.replace(inbound, parsed=None))
    assert fast.raw == slow.raw
    assert dataclasses.asdict(fast.parsed) == dataclasses.asdict(slow.parsed)
    assert fast.tags == slow.tags
    assert parsed.bcc == []  # the builder's copy is left alone
