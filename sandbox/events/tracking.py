"""Open and click tracking: opaque tokens naming (message, recipient), and the sandbox URLs.

``/t/open/{token}.gif`` records ``opened`` and answers a 1x1 GIF; ``/t/click/{token}?url=...``
records ``clicked`` and redirects to the link; ``/t/view/{token}`` shows the message's HTML as
that recipient would get it when the send asked for tracking (links rewritten through the
redirect, the pixel added). Tokens are not secret: this is a local tool.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from typing import Any
from urllib.parse import quote

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def make_token(message_id: str, recipient: str) -> str:
    raw = f"{message_id}\n{recipient}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_token(token: str) -> tuple[str, str] | None:
    """``(message_id, recipient)``, or None for a token we did not make."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    message_id, sep, recipient = raw.partition("\n")
    return (message_id, recipient) if sep and message_id else None


def urls(base_url: str, message_id: str, recipient: str) -> dict[str, str]:
    token = make_token(message_id, recipient)
    base = base_url.rstrip("/")
    return {
        "Open": f"{base}/t/open/{token}.gif",
        "Click": f"{base}/t/click/{token}?url=",
        "View": f"{base}/t/view/{token}",
    }


# "[^<>]" (not "[^>]"): an anchor is looked for up to the next "<", so an unclosed "<a" does
# not make every later one rescan the rest of the markup (quadratic).
_HREF = re.compile(r"""(<a\b[^<>]*?\bhref\s*=\s*)(["'])(https?://[^"']*)\2""", re.IGNORECASE)
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


def wanted(metadata: dict[str, Any]) -> tuple[bool, bool]:
    """``(opens, clicks)``: what tracking the send asked for, from the ``tracking`` options of
    its provider's metadata block: ``open``/``click`` booleans (SendGrid, SES through its
    configuration set, Postmark) or Mailgun's ``opens`` and ``clicks`` (yes, no, htmlonly)."""
    opens = clicks = False
    for block in metadata.values():
        options = block.get("tracking") if isinstance(block, dict) else None
        if not isinstance(options, dict):
            continue
        opens = opens or options.get("open") is True or options.get("opens") is True
        click = options.get("click", options.get("clicks"))
        clicks = clicks or str(click).lower() in ("yes", "true", "htmlonly")
    return opens, clicks


def rewrite_html(markup: str, base_url: str, token: str, opens: bool, clicks: bool) -> str:
    """The HTML a tracked recipient gets: links through the redirect, plus the open pixel."""
    base = base_url.rstrip("/")
    if clicks:

        def link(match: re.Match[str]) -> str:
            target = quote(html.unescape(match.group(3)), safe="")
            return f'{match.group(1)}"{base}/t/click/{token}?url={target}"'

        markup = _HREF.sub(link, markup)
    if opens:
        pixel = f'<img src="{base}/t/open/{token}.gif" width="1" height="1" alt="">'
        found = list(_BODY_END.finditer(markup))
        if found:
            at = found[-1].start()
            markup = markup[:at] + pixel + markup[at:]
        else:
            markup += pixel
    return markup
