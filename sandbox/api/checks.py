"""Message checks over REST: Mailpit's ``html-check``, ``link-check`` and ``sa-check``, and our
deliverability ``lint`` (see docs/checks.md).

CPU-bound work (parsing, the HTML check, the lint) runs in a worker thread, never on the event
loop. The link check starts outbound requests, so on top of the app's CORS guard it refuses any
request a browser marks as coming from another site (``Sec-Fetch-Site``): only the UI itself and
clients that are not browsers (scripts, SDKs, tests) can start one.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from mailsandbox import mime
from mailsandbox.api import rendering
from mailsandbox.api.deps import GoJSONResponse, bad_request, error, get_sandbox
from mailsandbox.api.lookup import Found, found_message, opened_message
from mailsandbox.checks import lint, spamassassin
from mailsandbox.checks.netguard import Policy
from mailsandbox.runtime import Sandbox
from mailsandbox.storage.messages import MessageSummary

router = APIRouter(prefix="/api/v1/message", tags=["checks"])

CROSS_SITE = {"cross-site", "same-site"}


async def html_check_of(found: Found) -> dict[str, Any] | str:
    """The html-check result for a stored message, or the 400 error text (the scoring runs on
    a worker thread)."""
    from mailsandbox.checks import htmlcheck  # (imported here: loading it costs start-up time)

    html = (await found.parse()).html
    if not html:
        return "message does not contain HTML"
    try:
        return await asyncio.to_thread(htmlcheck.run, html)
    except htmlcheck.TooLarge as exc:
        return str(exc)


@router.get("/{message_id}/html-check")
async def html_check(found: Found | Response = Depends(found_message)) -> Response:
    """HTML/CSS features the message uses, scored per email client (caniemail data)."""
    if not isinstance(found, Found):
        return found
    result = await html_check_of(found)
    return bad_request(result) if isinstance(result, str) else GoJSONResponse(result)


async def links_of(found: Found) -> list[str]:
    """The URLs the link check asks about (collected on a worker thread)."""
    from mailsandbox.checks import linkcheck  # (imported here: loading it costs start-up time)

    parsed = await found.parse()
    return await asyncio.to_thread(linkcheck.collect, parsed.html, parsed.text)


def link_policy(request: Request, sandbox: Sandbox) -> Policy:
    """What the link check may reach: Mailpit's rule, loopback allowed but not our own ports."""
    allow = sandbox.settings.allow_internal_http_requests
    return Policy(allow, _own_ports(request, sandbox))


def _own_ports(request: Request, sandbox: Sandbox) -> frozenset[int]:
    server = request.scope.get("server")
    ports = {sandbox.smtp_address[1]}
    if server:
        ports.add(int(server[1]))
    if sandbox.smtps_address is not None:
        ports.add(sandbox.smtps_address[1])
    return frozenset(ports)


@router.get("/{message_id}/link-check")
async def link_check(
    request: Request,
    sandbox: Sandbox = Depends(get_sandbox),
    found: Found | Response = Depends(opened_message),
) -> Response:
    """The HTTP status of every link and image (HEAD requests; ``follow=true`` follows up to
    two redirects). Marks the message read, as Mailpit does."""
    if request.headers.get("sec-fetch-site", "") in CROSS_SITE:
        return error(403, "link check refused: request from another site")
    if not isinstance(found, Found):
        return found
    from mailsandbox.checks import linkcheck  # (imported here: loading it costs start-up time)

    follow = request.query_params.get("follow", "") in ("true", "1")
    links = await links_of(found)
    result = await linkcheck.check(links, follow=follow, policy=link_policy(request, sandbox))
    return GoJSONResponse(result)


@router.get("/{message_id}/sa-check")
async def sa_check(
    sandbox: Sandbox = Depends(get_sandbox), found: Found | Response = Depends(found_message)
) -> Response:
    """SpamAssassin's score and rules for the message, from spamd (``--spamassassin``)."""
    address = sandbox.settings.spamassassin_address
    if address is None:
        return error(404, "SpamAssassin is not enabled (start with --spamassassin HOST:PORT)")
    if not isinstance(found, Found):
        return found
    return GoJSONResponse(await spamassassin.report(await found.raw(), address))


async def lint_of(found: Found, hostname: str) -> dict[str, Any]:
    """The lint report of a stored message (the findings are computed on a worker thread)."""
    raw, parsed = await found.raw(), await found.parse()
    return await asyncio.to_thread(_lint, raw, parsed, found.summary, hostname)


def _lint(
    raw: bytes, parsed: mime.ParsedMessage, summary: MessageSummary, hostname: str
) -> dict[str, Any]:
    addresses = {a.address.lower() for a in (*parsed.to, *parsed.cc, *parsed.bcc)}
    addresses |= {r.lower() for r in summary.recipients}
    result = lint.lint(
        raw,
        rendering.headers(raw),
        parsed,
        recipients=len(addresses),
        return_path=summary.return_path,
        metadata=summary.metadata,
        sandbox_hostname=hostname,
    )
    return result.as_json()


@router.get("/{message_id}/lint")
async def lint_message(
    sandbox: Sandbox = Depends(get_sandbox), found: Found | Response = Depends(found_message)
) -> Response:
    """Deliverability findings: what mailbox providers require or penalise (docs/checks.md)."""
    if not isinstance(found, Found):
        return found
    hostname = sandbox.settings.smtp_hostname
    return GoJSONResponse(await lint_of(found, hostname))


def install(sandbox: Sandbox) -> None:
    """At start, warn (in the background) if the configured spamd does not answer."""
    address = sandbox.settings.spamassassin_address
    if address is None:
        return

    async def check_spamd() -> None:
        sandbox.spawn(spamassassin.warn_if_unreachable(address))

    sandbox.on_startup.append(check_spamd)
