"""What the API derives from a raw message on request: Go-canonical headers, List-Unsubscribe,
the HTML body prepared for ``/view/{ID}.html`` (``cid:`` links to part URLs, ``embed=1``), and
the response headers that keep a stranger's content inert wherever it is served
(:func:`message_csp` for a message's HTML, :data:`RAW_HEADERS` for raw text and downloads).
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request

from mailsandbox.mime import PartInfo

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_LINK = re.compile(r"<([^>]*)>")
_CID = re.compile(r"""(?P<lead>["'(=]\s*)cid:(?P<cid>[^"'()\s>]+)""", re.IGNORECASE)
_ANCHOR = re.compile(r"<a(?=[\s>])([^>]*)>", re.IGNORECASE)
_TARGET_REL = re.compile(r"""\s(?:target|rel)\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]*)""", re.IGNORECASE)

# Raw sources, plain text and parts: never sniffed into HTML, nothing in them runs or loads
# (the inline style and data: image are what a browser's own text/image viewer uses), never
# framed by another site.
RAW_CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'; sandbox"
)
RAW_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": RAW_CSP}


def own_origin(request: Request) -> str:
    """This server's origin as the client reached it (``http://localhost:8025``)."""
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    return f"{request.url.scheme}://{host}"


def message_csp(origin: str, remote: bool) -> str:
    """CSP for a document that shows a message's HTML (the UI preview, ``/view/{ID}.html``).

    No scripts ever, an opaque origin (``sandbox``; links may open new tabs), no ``<base>``
    rebasing and no form posts. Images, styles, fonts and media load from this server (the
    message's own ``cid:`` parts) and ``data:`` URLs, and from anywhere only when the user asked
    for remote content (``remote=1``): a remote image is a read receipt for the sender.
    """
    local = f"{origin} data:"
    fetch = f"* {local}" if remote else local
    return (
        "default-src 'none'; script-src 'none'; object-src 'none'; base-uri 'none'; "
        f"form-action 'none'; img-src {fetch}; media-src {fetch}; font-src {fetch}; "
        f"style-src 'unsafe-inline' {fetch}; "
        "sandbox allow-popups allow-popups-to-escape-sandbox"
    )


def canonical_header(name: str) -> str:
    """Go's ``textproto.CanonicalMIMEHeaderKey``: ``message-id`` → ``Message-Id``."""
    if not _TOKEN.match(name):
        return name
    return "-".join(word[:1].upper() + word[1:].lower() for word in name.split("-"))


def header_block(raw: bytes) -> str:
    end = raw.find(b"\r\n\r\n")
    block = raw if end < 0 else raw[:end]
    return block.decode("utf-8", "surrogateescape").encode("utf-8", "replace").decode("utf-8")


def headers(raw: bytes) -> dict[str, list[str]]:
    """Header name → values in order, names canonicalised and sorted, folded lines joined."""
    lines: list[str] = []
    for line in header_block(raw).split("\r\n"):
        if line[:1] in (" ", "\t") and lines:
            lines[-1] += " " + line.strip()
        elif line:
            lines.append(line)
    result: dict[str, list[str]] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            continue
        result.setdefault(canonical_header(name.strip()), []).append(value.strip())
    return dict(sorted(result.items()))


def list_unsubscribe(all_headers: dict[str, list[str]]) -> dict[str, Any]:
    """Mailpit's ``ListUnsubscribe`` object: header, links in ``<...>``, errors, the Post header."""
    header = (all_headers.get("List-Unsubscribe") or [""])[0]
    links = [link.strip() for link in _LINK.findall(header) if link.strip()]
    errors = ""
    if header and not links:
        errors = "No valid unsubscribe links found"
    for link in links:
        if not re.match(r"^(mailto:|https?://)", link, re.IGNORECASE):
            errors = f'Unsubscribe link "{link}" is not a mailto or http(s) link'
    return {
        "Header": header,
        "Links": links,
        "Errors": errors,
        "HeaderPost": (all_headers.get("List-Unsubscribe-Post") or [""])[0],
    }


def rewrite_cids(markup: str, message_id: str, parts: list[PartInfo]) -> str:
    """Point ``cid:`` references at the message's own parts (``/api/v1/message/ID/part/P``)."""
    by_cid = {p.content_id.lower(): p.part_id for p in parts if p.content_id}
    if not by_cid:
        return markup

    def replace(match: re.Match[str]) -> str:
        part_id = by_cid.get(match.group("cid").lower())
        if part_id is None:
            return match.group(0)
        return f"{match.group('lead')}/api/v1/message/{message_id}/part/{part_id}"

    return _CID.sub(replace, markup)


def embed(markup: str) -> str:
    """``embed=1``: a full document whose links open outside the frame."""

    def anchor(match: re.Match[str]) -> str:
        attrs = _TARGET_REL.sub("", match.group(1))
        return f'<a{attrs} target="_blank" rel="noreferrer noopener">'

    body = _ANCHOR.sub(anchor, markup)
    if not re.search(r"<html[\s>]", body, re.IGNORECASE):
        body = f"<!DOCTYPE html><html><head></head><body>{body}</body></html>"
    return body
