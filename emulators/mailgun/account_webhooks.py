"""Mailgun's account-level webhooks, ``/v1/webhooks``: one URL for several event types, for the
events of every domain (documentation.mailgun.com, API reference "Account Webhooks").

``POST /v1/webhooks`` (form ``url``, ``event_types`` repeated, ``description``) →
``{"webhook_id"}``; ``GET /v1/webhooks[?webhook_ids=a,b]`` → ``{"webhooks": [...]}``;
``GET|PUT|DELETE /v1/webhooks/{id}`` (PUT replaces url, description and types; 204); ``DELETE
/v1/webhooks?webhook_ids=a,b`` or ``?all=true`` (204). Errors keep the shapes that reference
gives: 400 ``{"Field", "Value"}``, 404 ``{"Description"}``, 409 over 3 URLs for an event type.

Stored as ``mailgun`` webhook rows of scope '' (the account): the event engine sends an event
to the sending domain's webhooks and the account's, each URL once (Mailgun: "webhook URLs are
deduplicated by event type, across account and domain levels").
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from mailsandbox.emulators.mailgun.auth import caller
from mailsandbox.emulators.mailgun.errors import mg_json
from mailsandbox.emulators.mailgun.forms import read_form
from mailsandbox.emulators.mailgun.webhooks import MAX_URLS, NAMES
from mailsandbox.storage import webhooks as store
from mailsandbox.storage.sql import Connection

router = APIRouter()
ACCOUNT = ""  # the scope of account-level rows (a domain always has a dot)


def _json(endpoint: store.WebhookEndpoint) -> dict[str, Any]:
    created = datetime.fromtimestamp(int(endpoint.created), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "webhook_id": endpoint.id,
        "description": endpoint.friendly_name,
        "url": endpoint.url,
        "event_types": list(endpoint.events),
        "created_at": created,
    }


def account_hooks(conn: Connection) -> list[store.WebhookEndpoint]:
    return store.list_endpoints(conn, "mailgun", ACCOUNT)


async def _fields(request: Request) -> tuple[str, list[str], str] | JSONResponse:
    """(url, event types, description) of a create/update form, or the error to answer."""
    form = await read_form(request)
    url = form.first("url").strip()
    types = [t.strip() for t in form.all("event_types") if t.strip()]
    if not url:
        return mg_json({"Field": "url", "Value": "is required"}, 400)
    if not types:
        return mg_json({"Field": "event_types", "Value": "is required"}, 400)
    unknown = [t for t in types if t not in NAMES]
    if unknown:
        return mg_json({"Description": f"event_type '{unknown[0]}' is invalid"}, 404)
    repeated = sorted({t for t in types if types.count(t) > 1})
    if repeated:
        value = "duplicate event types: " + ", ".join(f"'{t}'" for t in repeated)
        return mg_json({"Field": "event_types", "Value": value}, 400)
    return url, types, form.first("description")


def _too_many(conn: Connection, url: str, types: list[str], skip: str) -> str:
    """An event type that would have more than ``MAX_URLS`` URLs, or ''."""
    for name in types:
        urls = {e.url for e in account_hooks(conn) if e.id != skip and name in e.events}
        if len(urls | {url}) > MAX_URLS:
            return name
    return ""


def _conflict(name: str) -> JSONResponse:
    message = f"unable to add more than {MAX_URLS} urls for event type {name}"
    return mg_json({"Description": message}, 409)


def _missing(webhook_id: str) -> JSONResponse:
    return mg_json({"Description": f"webhook_id not found: {webhook_id}"}, 404)


@router.get("/v1/webhooks")
async def list_account_webhooks(request: Request) -> JSONResponse:
    c = await caller(request)
    wanted = {i for i in request.query_params.get("webhook_ids", "").split(",") if i}
    rows = await c.sandbox.db.read(account_hooks)
    return mg_json({"webhooks": [_json(e) for e in rows if not wanted or e.id in wanted]})


@router.post("/v1/webhooks")
async def create_account_webhook(request: Request) -> JSONResponse:
    c = await caller(request)
    fields = await _fields(request)
    if isinstance(fields, JSONResponse):
        return fields
    url, types, description = fields

    webhook_id = secrets.token_hex(12)  # 24 hex digits, like Mailgun's ids

    def write(conn: Connection) -> str:
        crowded = _too_many(conn, url, types, "")
        if not crowded:
            endpoint = store.WebhookEndpoint(
                provider="mailgun",
                url=url,
                events=types,
                scope=ACCOUNT,
                signed=True,
                friendly_name=description,
                id=webhook_id,
            )
            store.save(conn, endpoint)
        return crowded

    crowded = await c.sandbox.db.write(write)
    if crowded:
        return _conflict(crowded)
    return mg_json({"webhook_id": webhook_id})


def _one(conn: Connection, webhook_id: str) -> store.WebhookEndpoint | None:
    return next((e for e in account_hooks(conn) if e.id == webhook_id), None)


@router.get("/v1/webhooks/{webhook_id}")
async def get_account_webhook(webhook_id: str, request: Request) -> JSONResponse:
    c = await caller(request)
    endpoint = await c.sandbox.db.read(lambda conn: _one(conn, webhook_id))
    if endpoint is None:
        return mg_json({"Description": "webhook not found"}, 404)
    return mg_json(_json(endpoint))


@router.put("/v1/webhooks/{webhook_id}")
async def update_account_webhook(webhook_id: str, request: Request) -> Response:
    c = await caller(request)
    fields = await _fields(request)
    if isinstance(fields, JSONResponse):
        return fields
    url, types, description = fields

    def write(conn: Connection) -> Response | None:
        endpoint = _one(conn, webhook_id)
        if endpoint is None:
            return _missing(webhook_id)
        crowded = _too_many(conn, url, types, webhook_id)
        if crowded:
            return _conflict(crowded)
        endpoint.url, endpoint.events, endpoint.friendly_name = url, types, description
        store.save(conn, endpoint)
        return None

    return await c.sandbox.db.write(write) or Response(status_code=204)


@router.delete("/v1/webhooks/{webhook_id}")
async def delete_account_webhook(webhook_id: str, request: Request) -> Response:
    c = await caller(request)

    def write(conn: Connection) -> bool:
        endpoint = _one(conn, webhook_id)
        return endpoint is not None and store.delete(conn, endpoint.id)

    if not await c.sandbox.db.write(write):
        return _missing(webhook_id)
    return Response(status_code=204)


@router.delete("/v1/webhooks")
async def delete_account_webhooks(request: Request) -> Response:
    c = await caller(request)
    query = request.query_params
    ids = [i.strip() for i in query.get("webhook_ids", "").split(",")]
    if "webhook_ids" in query and not all(ids):
        malformed = "malformed webhook_ids parameter: empty values not allowed"
        return mg_json({"message": f"Invalid parameter: webhook_ids {malformed}"}, 400)
    everything = query.get("all", "").lower() == "true" and "webhook_ids" not in query
    if not everything and "webhook_ids" not in query:
        message = "Invalid parameter: either webhook_ids or all=true is required"
        return mg_json({"message": message}, 400)

    def write(conn: Connection) -> int:
        doomed = [e for e in account_hooks(conn) if everything or e.id in ids]
        return sum(store.delete(conn, e.id) for e in doomed)

    if not await c.sandbox.db.write(write):
        return mg_json({"Description": "no webhooks found for account"}, 404)
    return Response(status_code=204)
