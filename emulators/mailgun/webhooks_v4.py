"""Mailgun's v4 domain webhooks: one URL for several event types in one call.

``POST /v4/domains/{domain}/webhooks`` (form ``url``, ``event_types`` repeated) adds the URL to
each type; ``PUT`` (same form) makes the URL's types exactly these; ``DELETE ?url=a,b`` removes
the URLs from every type. Each answers ``{"webhooks": {...}}``, the domain's webhooks after the
change, in the shape of ``GET /v3/domains/{domain}/webhooks`` (documentation.mailgun.com, API
reference "Webhooks": "Create a domain's webhooks (v4)", "Update ...", "Delete ..."). They are
the same rows the v3 API manages (one per domain and event type, at most 3 URLs each).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from mailsandbox.emulators.mailgun.auth import Caller, caller
from mailsandbox.emulators.mailgun.errors import bad_request, mg_json
from mailsandbox.emulators.mailgun.forms import read_form
from mailsandbox.emulators.mailgun.webhooks import (
    MAX_URLS,
    NAMES,
    check_name,
    domain_hooks,
    set_hook_urls,
)
from mailsandbox.storage.sql import Connection

router = APIRouter()
PATH = "/v4/domains/{domain}/webhooks"
Change = Callable[[str, list[str]], list[str]]  # (event type, its URLs) → its new URLs


async def _url_and_types(request: Request) -> tuple[str, list[str]]:
    form = await read_form(request)
    url = form.first("url").strip()
    if not url:
        raise bad_request("url is missing")
    types = [t.strip() for t in form.all("event_types") if t.strip()]
    if not types:
        raise bad_request("event_types is missing")
    for name in types:
        check_name(name)
    return url, types


async def _apply(c: Caller, change: Change) -> JSONResponse:
    """Change every event type's URLs in one transaction; 400 (nothing changed) when a type
    would have more than ``MAX_URLS``."""

    def write(conn: Connection) -> dict[str, dict[str, list[str]]]:
        hooks = domain_hooks(conn, c.domain)
        for name in NAMES:
            before = hooks.get(name, {}).get("urls", [])
            after = change(name, before)
            if len(after) > MAX_URLS:
                raise bad_request(f"Too many URLs for webhook {name}: at most {MAX_URLS}")
            if after != before:
                set_hook_urls(conn, c.domain, name, after)
        return domain_hooks(conn, c.domain)

    return mg_json({"webhooks": await c.sandbox.db.write(write)})


@router.post(PATH)
async def add_url(request: Request, c: Caller = Depends(caller)) -> JSONResponse:
    url, types = await _url_and_types(request)

    def change(name: str, urls: list[str]) -> list[str]:
        return [*urls, url] if name in types and url not in urls else urls

    return await _apply(c, change)


@router.put(PATH)
async def replace_types(request: Request, c: Caller = Depends(caller)) -> JSONResponse:
    url, types = await _url_and_types(request)

    def change(name: str, urls: list[str]) -> list[str]:
        kept = [u for u in urls if u != url]
        return [*kept, url] if name in types else kept

    return await _apply(c, change)


@router.delete(PATH)
async def remove_urls(request: Request, c: Caller = Depends(caller)) -> JSONResponse:
    gone = {u.strip() for u in request.query_params.get("url", "").split(",") if u.strip()}
    if not gone:
        raise bad_request("url is missing")
    return await _apply(c, lambda name, urls: [u for u in urls if u not in gone])
