"""``/webhooks``: Resend's webhooks API (create, list, get, update, delete), on the shared
webhook store (provider ``resend``, ``events`` = the subscribed event types, the signing secret
in ``details``). Each webhook gets its own ``whsec_`` secret, returned when it is created and
by ``GET /webhooks/{id}``, and kept in the signer's memory for the POSTs. Shapes from the
resend SDKs (``Webhooks.CreateParams``, ``Webhook``).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from mailsandbox.emulators.resend import event_format, svix
from mailsandbox.emulators.resend.errors import not_found, validation
from mailsandbox.emulators.resend.sending import created_text
from mailsandbox.emulators.resend.wire import TEAM_TOPIC, answer, authorize, listing, object_body
from mailsandbox.storage import webhooks as store
from mailsandbox.storage.sql import Connection

KNOWN_EVENTS = (
    *event_format.EVENT_TYPES,
    "email.scheduled",
    "email.received",
    "email.suppressed",
    "contact.created",
    "contact.updated",
    "contact.deleted",
    "domain.created",
    "domain.updated",
    "domain.deleted",
)


def webhook_json(e: store.WebhookEndpoint, *, secret: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "object": "webhook",
        "id": e.id,
        "created_at": created_text(e.created),
        "status": "enabled" if e.enabled else "disabled",
        "endpoint": e.url,
        "events": list(e.events),
    }
    if secret:
        out["signing_secret"] = e.details.get("signing_secret")
    return out


def _apply(e: store.WebhookEndpoint, data: dict[str, Any]) -> None:
    if "endpoint" in data:
        url = data.get("endpoint")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise validation("Invalid `endpoint` field: it must be an http(s) URL.")
        e.url = url
    if "events" in data:
        events = data.get("events")
        if (
            not isinstance(events, list)
            or not events
            or any(not isinstance(x, str) or x not in KNOWN_EVENTS for x in events)
        ):
            raise validation(f"Invalid `events` field: a list of {', '.join(KNOWN_EVENTS)}.")
        e.events = list(dict.fromkeys(events))
    if "status" in data:
        if data.get("status") not in ("enabled", "disabled"):
            raise validation("Invalid `status` field: enabled or disabled.")
        e.enabled = data["status"] == "enabled"


def _find(conn: Connection, webhook_id: str) -> store.WebhookEndpoint:
    found = store.get(conn, webhook_id)
    if found is None or found.provider != "resend":
        raise not_found("Webhook not found")
    return found


async def create_webhook(request: Request) -> Response:
    caller = authorize(request)
    data = await object_body(request)
    for name in ("endpoint", "events"):
        if name not in data:
            raise validation(f"Missing `{name}` field.")
    endpoint = store.WebhookEndpoint(provider="resend", url="", signed=True)
    _apply(endpoint, data)
    endpoint.details = {"signing_secret": svix.new_secret()}
    saved = await caller.sandbox.db.write(lambda conn: store.save(conn, endpoint))
    svix.signer_of(caller.sandbox).secrets[saved.id] = saved.details["signing_secret"]
    caller.sandbox.team.changed(TEAM_TOPIC)
    return answer(
        {"object": "webhook", "id": saved.id, "signing_secret": saved.details["signing_secret"]}
    )


async def list_webhooks(request: Request) -> Response:
    caller = authorize(request)
    found = await caller.sandbox.db.read(lambda conn: store.list_endpoints(conn, "resend"))
    items = [webhook_json(e) for e in reversed(found)]
    return answer(listing(items, request))


async def get_webhook(request: Request) -> Response:
    caller = authorize(request)
    webhook_id = request.path_params["webhook"]
    found = await caller.sandbox.db.read(lambda conn: _find(conn, webhook_id))
    return answer(webhook_json(found, secret=True))


async def update_webhook(request: Request) -> Response:
    caller = authorize(request)
    webhook_id = request.path_params["webhook"]
    data = await object_body(request)
    endpoint = await caller.sandbox.db.read(lambda conn: _find(conn, webhook_id))
    _apply(endpoint, data)
    await caller.sandbox.db.write(lambda conn: store.save(conn, endpoint))
    return answer({"object": "webhook", "id": webhook_id})


async def delete_webhook(request: Request) -> Response:
    caller = authorize(request)
    webhook_id = request.path_params["webhook"]
    endpoint = await caller.sandbox.db.read(lambda conn: _find(conn, webhook_id))
    await caller.sandbox.db.write(lambda conn: store.delete(conn, endpoint.id))
    svix.signer_of(caller.sandbox).secrets.pop(endpoint.id, None)
    caller.sandbox.team.changed(TEAM_TOPIC)
    return answer({"object": "webhook", "id": webhook_id, "deleted": True})


ROUTES = [
    ("POST", "/webhooks", create_webhook),
    ("GET", "/webhooks", list_webhooks),
    ("GET", "/webhooks/{webhook}", get_webhook),
    ("PATCH", "/webhooks/{webhook}", update_webhook),
    ("DELETE", "/webhooks/{webhook}", delete_webhook),
]
