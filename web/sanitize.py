"""Preparing hostile email HTML for the preview iframe (defence in depth behind the CSP).

The iframe is sandboxed without scripts and the document is served with a strict CSP, so the
browser already refuses to run anything. On top of that the markup is rewritten: ``cid:``
references point at the message's own parts, ``javascript:``/``vbscript:``/``data:text/html``
URLs are removed, ``<meta http-equiv=refresh>`` is removed (CSP does not stop it), and links
open in a new tab.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

_ATTR = re.compile(
    r"""(?P<lead>[\s/"'])(?P<name>href|src|action|formaction|xlink:href|background|poster|data)
        (?P<eq>\s*=\s*)(?P<value>"[^"]*"|'[^']*'|[^\s>"']+)""",
    re.IGNORECASE | re.VERBOSE,
)
_META_REFRESH = re.compile(r"<meta\b[^>]*http-equiv\s*=\s*[\"']?\s*refresh[^>]*>", re.IGNORECASE)
_CID_IN_CSS = re.compile(r"url\(\s*([\"']?)cid:([^)\"'\s]+)\1\s*\)", re.IGNORECASE)
_REMOTE = re.compile(
    r"""(?:src|srcset|background|poster)\s*=\s*["']?\s*(?:https?:)?//
        |<link\b[^>]*\bhref\s*=\s*["']?\s*(?:https?:)?//
        |url\(\s*["']?\s*(?:https?:)?//
        |@import""",
    re.IGNORECASE | re.VERBOSE,
)
_DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:text/html", "data:application", "file:")
_CONTROL = re.compile(r"[\x00-\x20]+")
_HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)
_HTML = re.compile(r"<html\b[^>]*>", re.IGNORECASE)

PREFIX = '<base target="_blank">'


def _is_dangerous(value: str) -> bool:
    plain = _CONTROL.sub("", html.unescape(value)).lower()
    return plain.startswith(_DANGEROUS_SCHEMES)


def rewrite_html(markup: str, cid_urls: Mapping[str, str]) -> str:
    """The message HTML with inert URLs, resolved ``cid:`` links and no meta refresh."""

    def resolve(reference: str) -> str | None:
        return cid_urls.get(reference.strip().strip("<>"))

    def attribute(match: re.Match[str]) -> str:
        value = match.group("value")
        quote = value[0] if value[0] in "\"'" else ""
        inner = value[1:-1] if quote else value
        if _is_dangerous(inner):  # drop the URL: the element stays, it just goes nowhere
            return f'{match.group("lead")}data-blocked-{match.group("name").replace(":", "-")}=""'
        if html.unescape(inner).strip().lower().startswith("cid:"):
            inner = resolve(html.unescape(inner).strip()[4:]) or "#missing-part"
        quote = quote or '"'
        return f"{match.group('lead')}{match.group('name')}{match.group('eq')}{quote}{inner}{quote}"

    def css(match: re.Match[str]) -> str:
        return f"url({resolve(match.group(2)) or '#missing-part'})"

    markup = _META_REFRESH.sub("", markup)
    markup = _ATTR.sub(attribute, markup)
    markup = _CID_IN_CSS.sub(css, markup)
    head = _HEAD.search(markup) or _HTML.search(markup)
    if head:
        return markup[: head.end()] + PREFIX + markup[head.end() :]
    return PREFIX + markup


def has_remote_content(markup: str) -> bool:
    """Whether the HTML references remote images, styles or fonts (blocked until asked)."""
    return bool(_REMOTE.search(markup))
