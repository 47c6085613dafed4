"""Reading SendGrid request bodies: ``application/json`` only (415 otherwise), gzip allowed,
30 MB cap (413), malformed JSON answered with SendGrid's bare ``Bad Request`` error."""

from __future__ import annotations

import json
import zlib
from typing import Any

from fastapi import Request

from mailsandbox.emulators.sendgrid.errors import SendGridError, bad_request

MAX_BYTES = 30 * 1024 * 1024  # "the total message size must be less than 30MB"


def too_large() -> SendGridError:
    return SendGridError.one(413, "content too large")


def _gunzip(data: bytes) -> bytes:
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = decompressor.decompress(data, MAX_BYTES + 1)
    except zlib.error as exc:
        raise bad_request() from exc
    if len(out) > MAX_BYTES or decompressor.unconsumed_tail:
        raise too_large()
    return out


async def read_json(request: Request, *, required: bool = True) -> Any:
    """The decoded JSON body; ``None`` for an empty body when not ``required``."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BYTES:
        raise too_large()
    data = await request.body()
    if len(data) > MAX_BYTES:
        raise too_large()
    if request.headers.get("content-encoding", "").strip().lower() == "gzip":
        data = _gunzip(data)
    if not data.strip():
        if required:
            raise bad_request()
        return None
    # SendGrid's own check and answer (e.g. sendgrid/sendgrid-php#580). It also keeps web forms
    # out: a <form> or no-cors fetch can only send urlencoded, multipart or text/plain bodies.
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise SendGridError.one(415, "Content-Type should be application/json.")
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request() from exc


async def read_object(request: Request, *, required: bool = True) -> dict[str, Any]:
    """The body as a JSON object (anything else is a Bad Request)."""
    body = await read_json(request, required=required)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise bad_request()
    return body
