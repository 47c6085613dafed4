"""Rendering helpers: the Jinja2 environment (autoescaping on), its filters, and the nav.

Everything user-controlled (subjects, names, headers, bodies) reaches the page only through
these autoescaped templates. ``NAV_LINKS`` is the header navigation; add-ons (for example the
rules page) append ``(label, href)`` to it when they install.
"""

from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

if TYPE_CHECKING:
    from jinja2 import Environment
    from markupsafe import Markup

from mailsandbox.api.deps import get_sandbox
from mailsandbox.api.rendering import PREVIEW_SANDBOX
from mailsandbox.api.scoping import login_of, scoping_of, visible_inboxes
from mailsandbox.logins import Visible
from mailsandbox.mime import Address
from mailsandbox.runtime import Sandbox

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

NAV_LINKS: list[tuple[str, str]] = [("Inbox", "/")]

SOURCE_LABELS = {
    "smtp": "SMTP",
    "sendgrid": "SendGrid",
    "mailgun": "Mailgun",
    "ses": "Amazon SES",
    "postmark": "Postmark",
    "resend": "Resend",
    "api": "API",
    "generic": "Generic",
    "inbound": "Inbound",
    "sendgrid-parse": "SendGrid Inbound Parse",
    "mailgun-route": "Mailgun route",
    "import": "Import",
}

# The UI's own pages: scripts and styles only from us, frames only from us, no plugins.
UI_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'self'"
)


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB"):
        if value < 1024 or unit == "MB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


# Relative times: below the first limit "just now", then whole units. app.js's ``relative()``
# keeps the labels current in the browser with the same steps (tests/web/test_prefs.py checks
# the two agree), so a page never shows "just now" beside "0 min ago".
RELATIVE_STEPS = ((3600, 60, "min"), (86400, 3600, "h"), (86400 * 7, 86400, "d"))


def relative_time(epoch: float, now: float | None = None) -> str:
    delta = max(0.0, (now or time.time()) - epoch)
    if delta < 60:
        return "just now"
    for limit, unit, name in RELATIVE_STEPS:
        if delta < limit:
            return f"{int(delta // unit)} {name} ago"
    return datetime.fromtimestamp(epoch, UTC).strftime("%d %b %Y")


def time_until(epoch: float, now: float | None = None) -> str:
    """A moment in the near future, as "now", "in 5 s", "in 3 min"."""
    delta = epoch - (now or time.time())
    if delta < 1:
        return "now"
    return f"in {delta:.0f} s" if delta < 90 else f"in {delta // 60:.0f} min"


def redact_url(url: str) -> str:
    """A webhook URL with the password of its ``user:pass@`` part hidden."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = f"{parts.username}:•••@{parts.netloc.rsplit('@', 1)[1]}"
    except ValueError:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


_URL_BREAKS = re.compile(r"(?<=[/?&=.#])(?=[^/?&=.#])")


def breakable_url(url: str) -> Markup:
    """A URL (escaped) with line-break opportunities after ``/ ? & = . #``, so a long one
    wraps between its parts instead of letter by letter."""
    from markupsafe import Markup, escape  # with Jinja2, at the first page

    return Markup("<wbr>").join(escape(part) for part in _URL_BREAKS.split(url))


_TAG_QUERY = re.compile(r'tag:(?:"([^"]+)"|(\S+))')


def tag_query(tag: str) -> str:
    """The search that lists a tag's messages: ``tag:invoice``, ``tag:"two words"``."""
    return f'tag:"{tag}"' if " " in tag else f"tag:{tag}"


def active_tag(query: str) -> str:
    """The tag a search filters on when it is nothing but ``tag:...`` ("" otherwise)."""
    match = _TAG_QUERY.fullmatch(query.strip())
    return (match.group(1) or match.group(2)) if match else ""


def exact_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def iso_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


def header_date(iso: str) -> str:
    """A stored Date header (ISO with its own offset) the way mail clients show it."""
    try:
        return datetime.fromisoformat(iso).strftime("%a, %d %b %Y %H:%M:%S %z")
    except ValueError:
        return iso


def show_address(a: Address) -> str:
    if a.name and a.address:
        return f"{a.name} <{a.address}>"
    return a.name or a.address


def short_address(a: Address) -> str:
    return a.name or a.address or "(no sender)"


def source_label(source: str) -> str:
    return SOURCE_LABELS.get(source, source.upper() or "?")


def make_environment() -> Environment:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        human_size=human_size,
        reltime=relative_time,
        exact_time=exact_time,
        until=time_until,
        redact_url=redact_url,
        iso_time=iso_time,
        header_date=header_date,
        address=show_address,
        short_address=short_address,
        source_label=source_label,
        breakable_url=breakable_url,
        tag_query=tag_query,
        active_tag=active_tag,
    )
    env.globals["nav_links"] = NAV_LINKS
    env.globals["preview_sandbox"] = PREVIEW_SANDBOX
    env.globals["may"] = may
    return env


class Renderer:
    """Renders templates to responses with the UI's security headers. The Jinja2
    environment is made at the first page (not at start: start-up stays quick)."""

    @functools.cached_property
    def env(self) -> Environment:
        return make_environment()

    def html(self, name: str, context: dict[str, Any], **kwargs: Any) -> str:
        return self.env.get_template(name).render(**context, **kwargs)

    def page(
        self,
        request: Request,
        name: str,
        context: dict[str, Any],
        *,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        body = self.html(name, context, request=request, nav_links=nav_links_for(request))
        response = HTMLResponse(body, status_code=status_code, headers=headers)
        response.headers["Content-Security-Policy"] = UI_CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response


def may(request: Request, method: str, path: str) -> bool:
    """Whether this request's login may use a route (a scoped login may not use those that
    span every inbox): templates hide the buttons of routes it would be refused."""
    login = login_of(request.scope)
    return login is None or scoping_of(request.app).allows(login, method, path)


def nav_links_for(request: Request) -> list[tuple[str, str]]:
    """The header's links, less the pages this request's login may not open."""
    return [(label, href) for label, href in NAV_LINKS if may(request, "GET", href)]


RENDERER_KEY = "web.renderer"


def get_renderer(request: Request) -> Renderer:
    """FastAPI dependency: the renderer ``web.install`` keeps in ``sandbox.extensions``."""
    renderer: Renderer = request.app.state.sandbox.extensions[RENDERER_KEY]
    return renderer


@dataclass(frozen=True)
class UI:
    """What a UI route works with: the request, the sandbox and the renderer."""

    request: Request
    sandbox: Sandbox
    renderer: Renderer

    def page(self, name: str, context: dict[str, Any], *, status_code: int = 200) -> HTMLResponse:
        return self.renderer.page(self.request, name, context, status_code=status_code)

    @property
    def visible(self) -> Visible:
        """The inboxes this request's login may see (None: all of them)."""
        return visible_inboxes(self.request)


def get_ui(
    request: Request,
    sandbox: Sandbox = Depends(get_sandbox),
    renderer: Renderer = Depends(get_renderer),
) -> UI:
    """FastAPI dependency: the :class:`UI` of this request."""
    return UI(request, sandbox, renderer)
