"""Reading Mailgun request bodies: urlencoded or multipart forms with repeated fields, comma
lists of addresses, Mailgun booleans, and file parts (``attachment``, ``inline``, ``message``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.utils import getaddresses

from fastapi import Request
from starlette.datastructures import UploadFile

from emulators.mailgun.errors import MailgunError, bad_request

MAX_MESSAGE_BYTES = 25 * 1024 * 1024
_TRUE = {"yes", "true", "1", "on"}
# ``Plain Name <local@domain>`` or ``local@domain`` with nothing getaddresses would rewrite
# (no quotes, comments, dots in the name, repeated spaces, or unusual characters).
_LOCAL = r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
_SIMPLE = re.compile(rf"(?:([A-Za-z0-9]+(?: [A-Za-z0-9]+)*) ?<({_LOCAL})>|({_LOCAL}))")
_FALSE = {"no", "false", "0", "off", ""}


@dataclass
class FilePart:
    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class Form:
    """Text fields (every value, in order) and file parts of one request."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[FilePart] = field(default_factory=list)

    def all(self, name: str) -> list[str]:
        return self.fields.get(name, [])

    def first(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0] if values else default

    def prefixed(self, prefix: str) -> dict[str, str]:
        """``h:X-Foo`` → ``{"X-Foo": value}`` for one prefix (last value wins)."""
        return {k[len(prefix) :]: v[-1] for k, v in self.fields.items() if k.startswith(prefix)}

    def files_named(self, name: str) -> list[FilePart]:
        return [f for f in self.files if f.field == name]


async def read_form(request: Request) -> Form:
    """Parse the body; 413 over Mailgun's 25 MB limit, 400 when it is not a form."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_MESSAGE_BYTES:
        raise MailgunError(413, "Request Entity Too Large: message exceeds 25MB limit")
    content_type = request.headers.get("content-type", "")
    if "form" not in content_type:
        return Form()
    try:
        raw = await request.form(
            max_files=10_000, max_fields=100_000, max_part_size=MAX_MESSAGE_BYTES
        )
    except Exception as exc:  # multipart parser errors: malformed body
        raise bad_request(f"Malformed request body: {exc}") from exc
    form = Form()
    for name, value in raw.multi_items():
        if isinstance(value, UploadFile):
            data = await value.read()
            form.files.append(
                FilePart(
                    name,
                    value.filename or name,
                    value.content_type or "application/octet-stream",
                    data,
                )
            )
        else:
            form.fields.setdefault(name, []).append(value)
    return form


def addresses(values: list[str]) -> list[tuple[str, str]]:
    """Repeated and comma-separated address fields → ``[(name, addr)]`` (quoted commas kept;
    an unparsable entry comes back as ``("", "")``)."""
    cleaned = [v.strip().strip(",").strip() for v in values]
    cleaned = [v for v in cleaned if v]
    simple = [_SIMPLE.fullmatch(v) for v in cleaned]
    if all(simple):  # what getaddresses would return, without its character-by-character walk
        return [(m.group(1) or "", m.group(2) or m.group(3)) for m in simple if m]
    return getaddresses(cleaned)


def valid_address(addr: str) -> bool:
    local, at, domain = addr.rpartition("@")
    return bool(at and local and "." in domain and " " not in addr)


def boolean(value: str, name: str) -> bool:
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise bad_request(f"'{name}' parameter is not a valid boolean: {value}")


def int_param(value: str | None, name: str, default: int, maximum: int) -> int:
    """A positive integer query parameter (``limit``), capped; 400 when not a number."""
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise bad_request(f"Invalid {name} value: {value}") from exc
    if number < 1:
        raise bad_request(f"Invalid {name} value: {value}")
    return min(number, maximum)
