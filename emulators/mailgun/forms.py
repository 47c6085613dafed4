"""Reading Mailgun request bodies: urlencoded or multipart forms with repeated fields, comma
lists of addresses, Mailgun booleans, and file parts (``attachment``, ``inline``, ``message``).
"""

from __future__ import annotations

import binascii
import codecs
import re
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

from fastapi import Request
from python_multipart.multipart import parse_options_header
from starlette.datastructures import UploadFile

from mailsandbox.emulators.mailgun.errors import MailgunError, bad_request

# "413 request size exceeds 52.4MiB limit" (error table of mailgun/documentation api-sending)
MAX_MESSAGE_BYTES = int(52.4 * 1024 * 1024)
TOO_LARGE = "request size exceeds 52.4MiB limit"
MAX_FIELDS = 100_000
MAX_FILES = 10_000
URLENCODED = b"application/x-www-form-urlencoded"
MULTIPART = b"multipart/form-data"
_TRUE = {"yes", "true", "1", "on"}
_FALSE = {"no", "false", "0", "off", ""}
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")
_AS_QP = bytes.maketrans(b"+%", b" =")
# python-multipart's header field characters (RFC 7230 tokens), and limits well inside its own
# (8 header lines per part, 4224 bytes per line): beyond them the fast path steps aside
_TOKEN = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~"
_MAX_PART_HEADERS = 8
_MAX_PART_HEADER_LINE = 4096


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


async def require_bare_clear(request: Request) -> None:
    """Route dependency of "clear the whole table" routes (``DELETE /v3/{domain}/bounces``...).

    Mailgun clears on the bare path. A request that says more (``?address=...``, a body, a
    form) meant something narrower, and clearing everything for it would lose data: 400.
    """
    if request.query_params or (await request.body()).strip():
        raise bad_request(
            "This request deletes every entry and takes no parameters;"
            " to delete one, use DELETE on its own URL"
        )


async def read_form(request: Request) -> Form:
    """Parse the body; 413 over Mailgun's request size limit, 400 when it is not a form."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_MESSAGE_BYTES:
        raise MailgunError(413, TOO_LARGE)
    content_type = request.headers.get("content-type", "")
    if "form" not in content_type:
        return Form()
    kind, params = parse_options_header(content_type)
    if kind in (URLENCODED, MULTIPART) and len(await request.body()) > MAX_MESSAGE_BYTES:
        raise MailgunError(413, TOO_LARGE)  # a body sent without Content-Length
    try:
        if kind in (URLENCODED, MULTIPART):
            body = await request.body()
            # within Starlette's limits (max_part_size per field, max_fields), nothing to refuse
            if kind == URLENCODED and body.count(b"&") < MAX_FIELDS:
                return urlencoded_form(body)
            if kind == MULTIPART:
                found = multipart_form(body, params)
                if found is not None:
                    return found
        raw = await request.form(
            max_files=MAX_FILES, max_fields=MAX_FIELDS, max_part_size=MAX_MESSAGE_BYTES
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


def urlencoded_form(body: bytes) -> Form:
    """An ``application/x-www-form-urlencoded`` body, read as Starlette's form parser reads it
    (python-multipart's ``QuerystringParser``, then ``unquote_plus`` of each name and value):
    fields separated by ``&``, empty ones skipped, split at the first ``=`` (none: an empty
    value), Latin-1 bytes with UTF-8 percent escapes. Without the byte-wise callbacks."""
    form = Form()
    fields = form.fields
    for chunk in body.split(b"&"):
        if chunk:
            name, _, value = chunk.partition(b"=")
            fields.setdefault(_unquote_plus(name), []).append(_unquote_plus(value))
    return form


def multipart_form(body: bytes, params: dict[bytes, bytes]) -> Form | None:
    """A ``multipart/form-data`` body of the plain shape clients send, read as Starlette's
    ``MultiPartParser`` (with python-multipart) reads it; None for anything else (no closing
    delimiter, a delimiter line with anything but CRLF or ``--`` after it, a part without
    headers or a ``name``, header lines python-multipart would refuse or count against its
    limits, too many parts), which is left to Starlette, errors included.

    The shape: ``--boundary`` CRLF, then per part its header lines, an empty line and the data
    up to the next CRLF ``--boundary``, which is followed by CRLF (another part) or ``--`` (the
    end; what follows is discarded). Names, file names and values are decoded with the charset
    parameter as Starlette decodes them, Latin-1 when that fails.
    """
    boundary = params.get(b"boundary")
    if not boundary:
        return None
    charset = params.get(b"charset", b"utf-8").decode("latin-1")
    try:
        charset = codecs.lookup(charset).name
    except LookupError:
        charset = "latin-1"
    delimiter = b"\r\n--" + boundary
    opening = b"--" + boundary + b"\r\n"
    if not body.startswith(opening):
        return None
    form = Form()
    fields = form.fields
    at, counted = len(opening), 0
    while True:
        if body.startswith(b"\r\n", at):
            return None  # no header lines
        head_end = body.find(b"\r\n\r\n", at)
        if head_end < 0:
            return None
        part = _part_headers(body[at:head_end])
        data_start = head_end + 4
        data_end = body.find(delimiter, data_start)
        if part is None or data_end < 0:
            return None
        after = body[data_end + len(delimiter) : data_end + len(delimiter) + 2]
        if after not in (b"\r\n", b"--"):
            return None
        counted += 1
        if counted >= MAX_FILES:
            return None
        disposition, content_type = part
        options = parse_options_header(disposition)[1]
        if b"name" not in options:
            return None
        name = _safe_decode(options[b"name"], charset)
        data = body[data_start:data_end]
        if b"filename" in options:
            filename = _safe_decode(options[b"filename"], charset)
            content_type = content_type or "application/octet-stream"
            form.files.append(FilePart(name, filename or name, content_type, data))
        else:
            fields.setdefault(name, []).append(_safe_decode(data, charset))
        if after == b"--":
            return form
        at = data_end + len(delimiter) + 2


def _part_headers(block: bytes) -> tuple[bytes | None, str] | None:
    """(last Content-Disposition value, first Content-Type as text) of a part's header lines
    (values after the spaces python-multipart skips); None when it would not take them as
    they are."""
    lines = block.split(b"\r\n")
    if len(lines) > _MAX_PART_HEADERS:
        return None
    disposition: bytes | None = None
    content_type: str | None = None
    for line in lines:
        name, colon, value = line.partition(b":")
        if (
            not colon
            or not name
            or name.translate(None, _TOKEN)
            or len(line) > _MAX_PART_HEADER_LINE
            or b"\r" in value
            or b"\n" in value
        ):
            return None
        value = value.lstrip(b" ")
        lowered = name.lower()
        if lowered == b"content-disposition":
            disposition = value
        elif lowered == b"content-type" and content_type is None:
            content_type = value.decode("latin-1")
    return disposition, content_type or ""


def _safe_decode(data: bytes, charset: str) -> str:
    """Starlette's ``_user_safe_decode``."""
    try:
        return data.decode(charset)
    except (UnicodeDecodeError, LookupError):
        return data.decode("latin-1")


def _unquote_plus(data: bytes) -> str:
    """``urllib.parse.unquote_plus(data.decode("latin-1"))``. ASCII with only well-formed
    escapes (the usual case) is decoded by ``binascii.a2b_qp``, ``%`` read as ``=``, instead of
    ``unquote``'s Python loop; any ``=`` of its own could be taken for an escape: not then."""
    if b"%" not in data:
        return data.decode("latin-1").replace("+", " ")
    if data.isascii() and b"=" not in data and _BAD_ESCAPE.search(data) is None:
        return binascii.a2b_qp(data.translate(_AS_QP)).decode("utf-8", "replace")
    return unquote_plus(data.decode("latin-1"))


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
