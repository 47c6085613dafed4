"""The message page's check tabs: HTML source, HTML check, link check, spam score, lint, and
the same-origin snapshot document the screenshot button renders.

Each tab's body is an htmx fragment fetched when the tab is first shown, computed by the same
functions as the REST endpoints (:mod:`mailsandbox.api.checks`). The link check runs only when
the user presses its button, and only for our own page (:func:`~.guard.require_same_origin`),
since it sends requests out.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Query, Response

from mailsandbox.api import checks as api_checks
from mailsandbox.api.lookup import Found, find
from mailsandbox.api.rendering import message_csp, own_origin
from mailsandbox.checks import spamassassin
from mailsandbox.web import source
from mailsandbox.web.guard import require_same_origin
from mailsandbox.web.preview import load_preview_html, locked
from mailsandbox.web.render import UI, get_ui

router = APIRouter(include_in_schema=False)
PLATFORM_NAMES = {
    "desktop-webmail": "Desktop webmail",
    "mobile-webmail": "Mobile webmail",
    "ios": "iOS",
    "android": "Android",
    "macos": "macOS",
    "windows": "Windows",
    "windows-mail": "Windows Mail",
    "outlook-com": "Outlook.com",
}


async def _found(ui: UI, message_id: str) -> Found | Response:
    found = await find(ui.request, ui.sandbox, message_id, allow_latest=False)
    if not isinstance(found, Found):
        return ui.page(
            "_check_error.html", {"error": "This message no longer exists."}, status_code=404
        )
    return found


def _source(markup: str) -> dict[str, Any]:
    return {"source": source.highlight(source.pretty(markup)) if markup else None}


@router.get("/ui/message/{message_id}/checks/source")
async def html_source(message_id: str, ui: UI = Depends(get_ui)) -> Response:
    found = await _found(ui, message_id)
    if not isinstance(found, Found):
        return found
    context = await asyncio.to_thread(_source, (await found.parse()).html)
    return ui.page("_check_source.html", {**context, "message_id": message_id})


@router.get("/ui/message/{message_id}/checks/html")
async def html_check(message_id: str, ui: UI = Depends(get_ui), platform: str = "") -> Response:
    found = await _found(ui, message_id)
    if not isinstance(found, Found):
        return found
    result = await api_checks.html_check_of(found)
    if isinstance(result, str):
        return ui.page("_check_error.html", {"error": result})
    if platform in result["Platforms"]:
        from mailsandbox.checks import htmlcheck  # (imported here: loading it costs start-up time)

        result = htmlcheck.for_platform(result, platform)
    else:
        platform = ""
    context = {
        "result": result,
        "platform": platform,
        "platform_names": PLATFORM_NAMES,
        "message_id": message_id,
    }
    return ui.page("_check_html.html", context)


@router.get("/ui/message/{message_id}/checks/links", dependencies=[Depends(require_same_origin)])
async def link_check(message_id: str, ui: UI = Depends(get_ui), follow: int = 0) -> Response:
    found = await _found(ui, message_id)
    if not isinstance(found, Found):
        return found
    from mailsandbox.checks import linkcheck  # (imported here: loading it costs start-up time)

    links = await api_checks.links_of(found)
    policy = api_checks.link_policy(ui.request, ui.sandbox)
    result = await linkcheck.check(links, follow=bool(follow), policy=policy)
    context = {"result": result, "follow": bool(follow), "message_id": message_id}
    return ui.page("_check_links.html", context)


@router.get("/ui/message/{message_id}/checks/spam")
async def spam_check(message_id: str, ui: UI = Depends(get_ui)) -> Response:
    address = ui.sandbox.settings.spamassassin_address
    if address is None:
        error = "SpamAssassin is not enabled: start with --spamassassin HOST:PORT (a spamd)."
        return ui.page("_check_error.html", {"error": error})
    found = await _found(ui, message_id)
    if not isinstance(found, Found):
        return found
    result = await spamassassin.report(await found.raw(), address)
    return ui.page("_check_spam.html", {"result": result, "spamd": f"{address[0]}:{address[1]}"})


@router.get("/ui/message/{message_id}/checks/lint")
async def lint(message_id: str, ui: UI = Depends(get_ui)) -> Response:
    found = await _found(ui, message_id)
    if not isinstance(found, Found):
        return found
    hostname = ui.sandbox.settings.smtp_hostname
    report = await api_checks.lint_of(found, hostname)
    return ui.page("_check_lint.html", {"report": report})


@router.get("/ui/message/{message_id}/snapshot")
async def snapshot(message_id: str, ui: UI = Depends(get_ui), remote: int = Query(0)) -> Response:
    """The preview document for the screenshot: the same sanitised HTML as the preview, but
    without the CSP ``sandbox`` directive, so our page (same origin) can read its DOM to draw
    it. Scripts stay forbidden by the CSP and by the frame's ``sandbox`` attribute (no
    ``allow-scripts``); remote content loads only with ``remote=1``."""
    body = await load_preview_html(ui.sandbox, message_id, ui.visible)
    if not body:
        missing = "Message not found" if body is None else "This message has no HTML part"
        return locked(Response(missing, status_code=404, media_type="text/plain"))
    policy = message_csp(own_origin(ui.request), bool(remote), sandbox=None)
    return locked(Response(body, media_type="text/html; charset=utf-8"), policy)
