"""The urlencoded form reader must read every body exactly as Starlette's form parser does."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from python_multipart.multipart import parse_options_header
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import FormParser, MultiPartException, MultiPartParser

from mailsandbox.emulators.mailgun.forms import FilePart, multipart_form, urlencoded_form

PIECES = [
    b"a", b"b", b"=", b"&", b"&&", b"+", b"%", b"%2", b"%2B", b"%3D", b"%26", b"%C3%A9", b"%c3",
    b"%zz", b"%%", b"%e9", b"%F0%9F%98%80", b"\xc3\xa9", b"\xe9", b" ", b"\r\n", b"\n", b";",
    b"_", b"o:tag", b"h:X-Foo",
]  # fmt: skip


def _starlette(body: bytes, chunk: int) -> list[tuple[str, str]]:
    async def stream() -> AsyncIterator[bytes]:
        for i in range(0, len(body), chunk):
            yield body[i : i + chunk]

    async def parse() -> list[tuple[str, str]]:
        headers = Headers({"content-type": "application/x-www-form-urlencoded"})
        form = await FormParser(headers, stream()).parse()
        return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]

    return asyncio.run(parse())


def _ours(body: bytes) -> list[tuple[str, str]]:
    fields = urlencoded_form(body).fields
    # Form keeps values by name in order; Starlette's list, grouped the same way, must match
    return [(name, value) for name, values in fields.items() for value in values]


def _grouped(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    order: dict[str, list[str]] = {}
    for name, value in items:
        order.setdefault(name, []).append(value)
    return [(name, value) for name, values in order.items() for value in values]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"&",
        b"a",
        b"a=",
        b"=b",
        b"a=b=c",
        b"&&a=1&&b=2&",
        b"to=x%40example.com&to=y%40example.com&text=caf%C3%A9+au+lait",
        b"text=100%25+sure%2C+%zz+%+%4",
        b"raw=\xc3\xa9t\xe9&pct=%C3%A9",
        urlencode({"from": "Ann <a@b.c>", "text": "Line one.\nLine, two = 3 & more ✓"}).encode(),
    ],
)
def test_known_bodies(body: bytes) -> None:
    assert _ours(body) == _grouped(_starlette(body, len(body) or 1))


def test_random_bodies() -> None:
    rng = random.Random(20261126)
    for _ in range(3000):
        body = b"".join(rng.choice(PIECES) for _ in range(rng.randint(0, 25)))
        expected = _grouped(_starlette(body, rng.randint(1, 8)))
        assert _ours(body) == expected, body


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=UTF-8",
        "APPLICATION/x-www-form-urlencoded;charset=utf-8",
    ],
)
def test_send_reads_urlencoded_bodies(api: httpx.Client, content_type: str) -> None:
    text = "Caf\u00e9 100% sure, a=b & c\nline two"
    fields = [("from", "Ann <ann@mg.example.com>"), ("to", "bob@example.com")]
    fields += [("to", "c@example.com"), ("subject", "Hi + \u2713"), ("text", text)]
    body = urlencode([*fields, ("o:tag", "t1"), ("o:tag", "t2")])
    answer = api.post(
        "/v3/mg.example.com/messages",
        content=body.encode(),
        headers={"Content-Type": content_type},
        auth=("api", "key-x"),
    )
    assert answer.status_code == 200, answer.text
    [summary] = api.get("/api/v1/messages").json()["messages"]
    assert summary["Subject"] == "Hi + \u2713"
    assert [a["Address"] for a in summary["To"]] == ["bob@example.com", "c@example.com"]
    assert summary["Tags"] == ["t1", "t2"]
    message = api.get(f"/api/v1/message/{summary['ID']}").json()
    assert message["Text"].replace("\r\n", "\n") == text + "\n"


# --- multipart/form-data -------------------------------------------------------------------
BOUNDARY = b"b0und4ry"
PARTS = [
    b'Content-Disposition: form-data; name="text"\r\n\r\nhello',
    b'Content-Disposition: form-data; name="to"\r\n\r\na@example.com',
    b'content-disposition:   form-data; name="to"\r\n\r\nb@example.com',
    b'Content-Disposition: form-data; name="caf\xc3\xa9"\r\n\r\ncaf\xc3\xa9 \xe9',
    b'Content-Disposition: form-data; name="attachment"; filename="a.bin"\r\n'
    b"Content-Type: application/pdf\r\n\r\n\x00\x01\r\n\r\n--b0und\r\n--",
    b'Content-Disposition: form-data; name="inline"; filename=""\r\n\r\nx',
    b'Content-Type: text/plain\r\nContent-Disposition: form-data; name="f"; filename="t.txt"'
    b"\r\nContent-Type: image/png\r\n\r\nabc",
    b'Content-Disposition: form-data; filename="noname"\r\n\r\nx',
    b"X-Nothing: here\r\n\r\nx",
    b'Content-Disposition: form-data; name="a"\r\n\r\n',
    b"Content-Disposition: form-data; name*=utf-8''x; name=\"b\"\r\n\r\nv",
    b'Bad Header: x\r\nContent-Disposition: form-data; name="c"\r\n\r\nv',
    b'Content-Disposition: form-data; name="d"\r\nNoColon\r\n\r\nv',
    b'Content-Disposition: form-data; name="e"\r\n\r\n--b0und4ryX',
    b'Content-Disposition: form-data; name="tab"\r\nX-T:\tv\r\n\r\nv',
    b"\r\nno headers",
]
TAILS = [b"--", b"--\r\n", b"--\r\nepilogue", b"\r\n", b"", b" \r\n", b"x"]


def _starlette_multipart(body: bytes, content_type: str, chunk: int) -> Any:
    async def stream() -> AsyncIterator[bytes]:
        for i in range(0, len(body), chunk):
            yield body[i : i + chunk]

    async def parse() -> Any:
        headers = Headers({"content-type": content_type})
        parser = MultiPartParser(headers, stream(), max_files=10_000, max_fields=100_000)
        try:
            form = await parser.parse()
        except MultiPartException as exc:
            return ("error", exc.message)
        fields: dict[str, list[str]] = {}
        files = []
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                data = await value.read()
                ctype = value.content_type or "application/octet-stream"
                files.append(FilePart(name, value.filename or name, ctype, data))
            else:
                fields.setdefault(name, []).append(value)
        return fields, files

    return asyncio.run(parse())


def _multipart(parts: list[bytes], tail: bytes) -> bytes:
    body = b"--" + BOUNDARY + b"\r\n"
    body += (b"\r\n--" + BOUNDARY + b"\r\n").join(parts)
    return body + b"\r\n--" + BOUNDARY + tail


@pytest.mark.parametrize("charset", ["", "; charset=utf-8", "; charset=latin-1", "; charset=nope"])
def test_multipart_as_starlette_reads_it(charset: str) -> None:
    rng = random.Random(42)
    content_type = f"multipart/form-data; boundary={BOUNDARY.decode()}{charset}"
    params = parse_options_header(content_type)[1]
    used = 0
    for _ in range(1500):
        body = _multipart(rng.sample(PARTS, rng.randint(1, 4)), rng.choice(TAILS))
        if rng.random() < 0.2:  # damage: drop or duplicate a byte somewhere
            at = rng.randrange(len(body))
            body = body[:at] + (body[at + 1 :] if rng.random() < 0.5 else body[at - 1 :])
        ours = multipart_form(body, params)
        if ours is None:
            continue
        used += 1
        expected = _starlette_multipart(body, content_type, rng.randint(1, 64))
        assert (ours.fields, ours.files) == expected, body
    assert used > 150


def test_multipart_of_clients_takes_the_fast_path() -> None:
    fields = {"from": "Ann <ann@mg.example.com>", "to": ["b@example.com", "c@example.com"]}
    files = [("attachment", ("r\u00e9sum\u00e9.pdf", b"%PDF\r\n--x\r\n" * 50, "application/pdf"))]
    request = httpx.Request(
        "POST", "http://x/", data={**fields, "text": "Gr\u00fc\u00dfe"}, files=files
    )
    body = request.read()
    params = parse_options_header(request.headers["content-type"])[1]
    ours = multipart_form(body, params)
    assert ours is not None
    assert (ours.fields, ours.files) == _starlette_multipart(
        body, request.headers["content-type"], 7
    )
    assert ours.fields["to"] == ["b@example.com", "c@example.com"]
    assert ours.files[0].filename == "r\u00e9sum\u00e9.pdf"
