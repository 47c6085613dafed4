"""Delivery events API (interface 3): list and trigger a message's events, webhook attempts and
replay, and the open/click tracking endpoints (``/t/open/...``, ``/t/click/...``)."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse

from mailsandbox.api.deps import (
    BodyError,
    GoJSONResponse,
    bad_request,
    error,
    get_sandbox,
    int_param,
    json_body,
    not_found,
    string_field,
)
from mailsandbox.api.lookup import Found, find, found_message
from mailsandbox.api.schemas import go_time
from mailsandbox.api.scoping import visible_inboxes
from mailsandbox.events import outbox, tracking
from mailsandbox.events.access import engine_of
from mailsandbox.reading import compute
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import events, messages
from mailsandbox.storage.events import DeliveryEvent

router = APIRouter(tags=["events"])
# The recipient view shows untrusted HTML: no scripts, no plugins, its own opaque origin.
VIEW_HEADERS = {
    "Content-Security-Policy": "sandbox allow-popups allow-popups-to-escape-sandbox "
    "allow-top-navigation-by-user-activation; script-src 'none'; object-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
TRIGGERABLE = tuple(t for t in events.TYPES if t != "queued")


def event_json(event: DeliveryEvent) -> dict[str, Any]:
    return {
        "ID": event.id,
        "MessageID": event.message_id,
        "Recipient": event.recipient,
        "Type": event.type,
        "Created": go_time(event.created),
        "Reason": event.reason,
        "Code": event.code,
        "Provider": event.provider,
        "Details": event.details,
    }


def attempt_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "ID": row["outbox_id"],
        "Attempt": row["attempt"],
        "Provider": row["provider"],
        "URL": row["url"],
        "MessageID": row["message_id"],
        "EventID": row["event_id"],
        "Status": row["status_code"],
        "OK": bool(row["ok"]),
        "LatencyMs": row["latency_ms"],
        "Response": row["response_excerpt"],
        "Error": row["error"],
        "State": row["outbox_status"],
        "Created": go_time(row["created"]),
    }


# ``{message_id}`` may be ``latest`` (optionally ``?query=``), as on every message route.
@router.get("/api/v1/message/{message_id}/events")
async def list_events(
    found: Found | Response = Depends(found_message), sandbox: Sandbox = Depends(get_sandbox)
) -> Response:
    if not isinstance(found, Found):
        return found
    listed = await sandbox.db.read(lambda conn: events.for_message(conn, found.summary.id))
    return GoJSONResponse({"events": [event_json(e) for e in listed]})


@router.post("/api/v1/message/{message_id}/events")
async def add_event(
    message_id: str, request: Request, sandbox: Sandbox = Depends(get_sandbox)
) -> Response:
    try:
        body = await json_body(request)
        kind = string_field(body, "type")
        recipient = string_field(body, "recipient")
        reason = string_field(body, "reason")
        url = string_field(body, "url")
    except BodyError as exc:
        return bad_request(str(exc))
    if kind not in TRIGGERABLE:
        return bad_request(f"type must be one of {', '.join(TRIGGERABLE)}")
    found = await find(request, sandbox, message_id)
    if not isinstance(found, Found):
        return found
    details = {"url": url} if kind == "clicked" and url else {}
    engine = engine_of(sandbox)
    event = await engine.trigger(found.summary.id, kind, recipient, reason, **details)
    if event is None:  # deleted meanwhile
        return not_found()
    return GoJSONResponse(event_json(event))


@router.get("/api/v1/message/{message_id}/tracking")
async def tracking_urls(
    request: Request, found: Found | Response = Depends(found_message)
) -> Response:
    """The open-pixel and click-redirect URLs of each recipient (extension)."""
    if not isinstance(found, Found):
        return found
    base, summary = str(request.base_url), found.summary
    return GoJSONResponse({r: tracking.urls(base, summary.id, r) for r in summary.recipients})


@router.get("/api/v1/webhooks/deliveries")
async def list_deliveries(
    sandbox: Sandbox = Depends(get_sandbox),
    message: str | None = Query(None, description="only attempts for this message ID"),
    start: str | None = Query(None),
    limit: str | None = Query(None),
) -> Response:
    offset, count = int_param(start, 0), min(int_param(limit, 200), 5000)
    rows, counts = await sandbox.db.read(
        lambda conn: (
            outbox.attempts(conn, message_id=message, limit=count, offset=offset),
            outbox.counts(conn),
        )
    )
    return GoJSONResponse({"deliveries": [attempt_json(r) for r in rows], "outbox": counts})


@router.post("/api/v1/webhooks/deliveries/{outbox_id}/replay")
async def replay(outbox_id: str, sandbox: Sandbox = Depends(get_sandbox)) -> Response:
    found = await sandbox.db.write(lambda conn: outbox.requeue(conn, outbox_id))
    if not found:
        return error(404, "Delivery not found")
    engine_of(sandbox).dispatcher.wake()
    return GoJSONResponse({"ID": outbox_id, "State": "pending"})


async def _tracked(request: Request, sandbox: Sandbox, token: str) -> tuple[str, str] | None:
    """(message id, recipient) of a tracking token, if the request may see that message."""
    found = tracking.read_token(token)
    visible = visible_inboxes(request)
    if found is None or visible is None:
        return found
    summary = await sandbox.db.read(lambda conn: messages.get_summary(conn, found[0], visible))
    return found if summary is not None else None


@router.get("/t/open/{token}.gif")
async def track_open(
    token: str, request: Request, sandbox: Sandbox = Depends(get_sandbox)
) -> Response:
    found = await _tracked(request, sandbox, token)
    if found is not None:
        await engine_of(sandbox).trigger(found[0], "opened", found[1])
    headers = {"Cache-Control": "no-store"}
    return Response(tracking.PIXEL, media_type="image/gif", headers=headers)


@router.get("/t/view/{token}")
async def track_view(
    token: str, request: Request, sandbox: Sandbox = Depends(get_sandbox)
) -> Response:
    """The message as this recipient sees it, with the tracking the send asked for."""
    found = await _tracked(request, sandbox, token)
    if found is None:
        return not_found("Unknown tracking link")

    summary = await sandbox.db.read(lambda conn: messages.get_summary(conn, found[0]))
    if summary is None:
        return not_found()
    parsed = (await sandbox.reader.open(summary.id, summary.seq, summary.size)).parsed
    body = parsed.html or f"<pre>{html.escape(parsed.text)}</pre>"
    opens, clicks = tracking.wanted(summary.metadata)
    page = await compute(
        len(body), tracking.rewrite_html, body, str(request.base_url), token, opens, clicks
    )
    return HTMLResponse(page, headers=VIEW_HEADERS)


@router.get("/t/click/{token}")
async def track_click(
    token: str, request: Request, url: str = Query(""), sandbox: Sandbox = Depends(get_sandbox)
) -> Response:
    if urlsplit(url).scheme not in ("http", "https"):
        return bad_request("url must be an http(s) link")
    found = await _tracked(request, sandbox, token)
    if found is None:
        return not_found("Unknown tracking link")
    event = await engine_of(sandbox).trigger(found[0], "clicked", found[1], url=url)
    if event is None:
        return not_found()
    return Response(status_code=302, headers={"Location": url, "Cache-Control": "no-store"})
