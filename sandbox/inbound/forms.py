"""Encoding the form bodies inbound webhooks POST: ``multipart/form-data`` (fields in order,
repeatable names, file parts) and ``application/x-www-form-urlencoded``.

Written here rather than left to httpx so the wire shape is the providers' own: SendGrid posts
multipart even without files, fields keep their order, and names and file names are quoted the
way browsers quote them (``"`` as ``%22``, CR and LF as ``%0D`` / ``%0A``; UTF-8 kept as is).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

Field = tuple[str, str | bytes]


@dataclass(frozen=True)
class Upload:
    name: str
    filename: str
    content_type: str
    data: bytes


def _quote(value: str) -> str:
    return value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def multipart(fields: Sequence[Field], files: Sequence[Upload] = ()) -> tuple[bytes, str]:
    """The body and its ``Content-Type`` (with a fresh boundary)."""
    boundary = "mailsandbox-" + secrets.token_hex(16)
    chunks: list[bytes] = []
    for name, value in fields:
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'
        data = value.encode("utf-8") if isinstance(value, str) else value
        chunks += [head.encode("utf-8"), data, b"\r\n"]
    for upload in files:
        ctype = "".join(upload.content_type.split()) or "application/octet-stream"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(upload.name)}";'
            f' filename="{_quote(upload.filename)}"\r\nContent-Type: {ctype}\r\n\r\n'
        )
        chunks += [head.encode("utf-8"), upload.data, b"\r\n"]
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def urlencoded(fields: Sequence[Field]) -> tuple[bytes, str]:
    return urlencode(list(fields)).encode("ascii"), "application/x-www-form-urlencoded"
