"""Rendering helpers: the Jinja2 environment (autoescaping on), its filters, and the nav.

Everything user-controlled (subjects, names, headers, bodies) reaches the page only through
these autoescaped templates. ``NAV_LINKS`` is the header navigation; add-ons (for example the
rules page) append ``(label, href)`` to it when they install.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from mailsandbox.api.deps import get_sandbox
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


def relative_time(epoch: float, now: float | None = None) -> str:
    delta = max(0.0, (now or time.time()) - epoch)
    if delta < 45:
        return "just now"
    for limit, unit, name in ((3600, 60, "min"), (86400, 3600, "h"), (86400 * 7, 86400, "d")):
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
    )
    env.globals["nav_links"] = NAV_LINKS
    return env


class Renderer:
    """Renders templates to responses with the UI's security headers."""

    def __init__(self) -> None:
        self.env = make_environment()

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
        body = self.html(name, context, request=request)
        response = HTMLResponse(body, status_code=status_code, headers=headers)
        response.headers["Content-Security-Policy"] = UI_CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response


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


def get_ui(
    request: Request,
    sandbox: Sandbox = Depends(get_sandbox),
    renderer: Renderer = Depends(get_renderer),
) -> UI:
    """FastAPI dependency: the :class:`UI` of this request."""
    return UI(request, sandbox, renderer)
