"""Event Webhook settings (``/v3/user/webhooks/event/...``) on the shared webhook store.

The legacy single webhook (``GET|PATCH .../settings``) is the endpoint whose details say
``{"legacy": True}``; multi-webhooks are the other ``sendgrid`` endpoints. ``events`` holds the
enabled SendGrid event names (``spamreport`` for the ``spam_report`` flag). The ``/signed``
endpoints turn signing on or off and return the signer's base64 DER public key. ``POST .../test``
POSTs one sample event to the given URL (signed when asked) and answers 204.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from mailsandbox import ids
from mailsandbox.emulators.sendgrid.auth import authorize
from mailsandbox.emulators.sendgrid.body import read_object
from mailsandbox.emulators.sendgrid.errors import SendGridError, not_found
from mailsandbox.emulators.sendgrid.signing import SendGridSigner
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import webhooks as store

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v3/user/webhooks/event", dependencies=[Depends(authorize)])
MAX_WEBHOOKS = 5
# settings flag → SendGrid event name
FLAGS = {
    "bounce": "bounce",
    "click": "click",
    "deferred": "deferred",
    "delivered": "delivered",
    "dropped": "dropped",
    "group_resubscribe": "group_resubscribe",
    "group_unsubscribe": "group_unsubscribe",
    "open": "open",
    "processed": "processed",
    "spam_report": "spamreport",
    "unsubscribe": "unsubscribe",
}


def _sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def _signer(request: Request) -> SendGridSigner:
    signer: SendGridSigner = _sandbox(request).extensions["sendgrid.signer"]
    return signer


def _stamp(epoch: float) -> int:
    return int(epoch)


def settings_json(endpoint: store.WebhookEndpoint | None) -> dict[str, Any]:
    e = endpoint or store.WebhookEndpoint(provider="sendgrid", url="", enabled=False)
    out: dict[str, Any] = {"enabled": e.enabled, "url": e.url}
    out.update({flag: name in e.events for flag, name in FLAGS.items()})
    out.update({"oauth_client_id": "", "oauth_token_url": ""})
    if endpoint is not None and not endpoint.details.get("legacy"):
        out = {
            "id": e.id,
            **out,
            "friendly_name": e.friendly_name,
            "public_key": "",
            "created_date": _stamp(e.created),
            "updated_date": _stamp(e.updated),
        }
    return out


def _apply(endpoint: store.WebhookEndpoint, body: dict[str, Any]) -> store.WebhookEndpoint:
    """Merge a settings body into an endpoint (400 on wrong types)."""
    events = set(endpoint.events)
    for flag, name in FLAGS.items():
        if flag in body:
            if not isinstance(body[flag], bool):
                raise SendGridError.one(400, f"{flag} must be a boolean", flag)
            (events.add if body[flag] else events.discard)(name)
    endpoint.events = [name for name in FLAGS.values() if name in events]
    if "enabled" in body:
        if not isinstance(body["enabled"], bool):
            raise SendGridError.one(400, "enabled must be a boolean", "enabled")
        endpoint.enabled = body["enabled"]
    if "url" in body:
        url = body["url"]
        if not isinstance(url, str) or (url and not url.startswith(("http://", "https://"))):
            raise SendGridError.one(400, "url must be a valid http(s) URL", "url")
        endpoint.url = url
    if isinstance(body.get("friendly_name"), str):
        endpoint.friendly_name = body["friendly_name"]
    return endpoint


def _legacy(conn: Any) -> store.WebhookEndpoint | None:
    found = [e for e in store.list_endpoints(conn, "sendgrid") if e.details.get("legacy")]
    return found[0] if found else None


async def _by_id(request: Request, webhook_id: str) -> store.WebhookEndpoint:
    endpoint = await _sandbox(request).db.read(lambda conn: store.get(conn, webhook_id))
    if endpoint is None or endpoint.provider != "sendgrid":
        raise not_found("id")
    return endpoint


async def _save(request: Request, endpoint: store.WebhookEndpoint) -> store.WebhookEndpoint:
    return await _sandbox(request).db.write(lambda conn: store.save(conn, endpoint))


def _signed_body(request: Request, endpoint: store.WebhookEndpoint | None) -> dict[str, Any]:
    key = _signer(request).public_key_b64 if endpoint is not None and endpoint.signed else ""
    out: dict[str, Any] = {"public_key": key}
    if endpoint is not None and not endpoint.details.get("legacy"):
        out = {"id": endpoint.id, **out}
    return out


async def _set_signed(request: Request, endpoint: store.WebhookEndpoint) -> JSONResponse:
    body = await read_object(request)
    if not isinstance(body.get("enabled"), bool):
        raise SendGridError.one(400, "enabled must be a boolean", "enabled")
    endpoint.signed = body["enabled"]
    return JSONResponse(_signed_body(request, await _save(request, endpoint)))


def _new_legacy() -> store.WebhookEndpoint:
    return store.WebhookEndpoint(
        provider="sendgrid", url="", enabled=False, details={"legacy": True}
    )


# --- legacy single webhook (declared before /settings/{id}) ------------------------------
@router.get("/settings")
async def get_settings(request: Request) -> JSONResponse:
    return JSONResponse(settings_json(await _sandbox(request).db.read(_legacy)))


@router.patch("/settings")
async def patch_settings(request: Request) -> JSONResponse:
    body = await read_object(request)
    legacy = await _sandbox(request).db.read(_legacy)
    endpoint = legacy or _new_legacy()
    return JSONResponse(settings_json(await _save(request, _apply(endpoint, body))))


@router.get("/settings/signed")
async def get_signed(request: Request) -> JSONResponse:
    return JSONResponse(_signed_body(request, await _sandbox(request).db.read(_legacy)))


@router.patch("/settings/signed")
async def patch_signed(request: Request) -> JSONResponse:
    legacy = await _sandbox(request).db.read(_legacy)
    return await _set_signed(request, legacy or _new_legacy())


@router.get("/settings/all")
async def list_settings(request: Request) -> JSONResponse:
    found = await _sandbox(request).db.read(lambda conn: store.list_endpoints(conn, "sendgrid"))
    webhooks = [settings_json(e) for e in found if not e.details.get("legacy")]
    return JSONResponse({"max_allowed": MAX_WEBHOOKS, "webhooks": webhooks})


# --- multiple webhooks -------------------------------------------------------------------
@router.post("/settings")
async def create_settings(request: Request) -> JSONResponse:
    body = await read_object(request)
    if not isinstance(body.get("url"), str) or not body["url"]:
        raise SendGridError.one(400, "url is required", "url")
    existing = await _sandbox(request).db.read(lambda conn: store.list_endpoints(conn, "sendgrid"))
    if sum(1 for e in existing if not e.details.get("legacy")) >= MAX_WEBHOOKS:
        raise SendGridError.one(400, f"you may have at most {MAX_WEBHOOKS} webhooks", None)
    endpoint = _apply(store.WebhookEndpoint(provider="sendgrid", url=""), body)
    return JSONResponse(settings_json(await _save(request, endpoint)), status_code=201)


@router.get("/settings/signed/{webhook_id}")
async def get_signed_by_id(request: Request, webhook_id: str) -> JSONResponse:
    return JSONResponse(_signed_body(request, await _by_id(request, webhook_id)))


@router.patch("/settings/signed/{webhook_id}")
async def patch_signed_by_id(request: Request, webhook_id: str) -> JSONResponse:
    return await _set_signed(request, await _by_id(request, webhook_id))


@router.get("/settings/{webhook_id}")
async def get_by_id(request: Request, webhook_id: str) -> JSONResponse:
    return JSONResponse(settings_json(await _by_id(request, webhook_id)))


@router.patch("/settings/{webhook_id}")
async def patch_by_id(request: Request, webhook_id: str) -> JSONResponse:
    endpoint = await _by_id(request, webhook_id)
    body = await read_object(request)
    return JSONResponse(settings_json(await _save(request, _apply(endpoint, body))))


@router.delete("/settings/{webhook_id}")
async def delete_by_id(request: Request, webhook_id: str) -> Response:
    await _by_id(request, webhook_id)
    await _sandbox(request).db.write(lambda conn: store.delete(conn, webhook_id))
    return Response(status_code=204)


def sample_event() -> list[dict[str, Any]]:
    """What ``test`` sends: one ``processed`` event, as SendGrid's own test does."""
    return [
        {
            "email": "example@test.com",
            "timestamp": int(time.time()),
            "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
            "event": "processed",
            "category": ["cat facts"],
            "sg_event_id": ids.new_id(),
            "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
        }
    ]


@router.post("/test")
async def test_webhook(request: Request) -> Response:
    body = await read_object(request)
    url = body.get("url")
    endpoint = await _by_id(request, body["id"]) if isinstance(body.get("id"), str) else None
    url = url or (endpoint.url if endpoint else None)
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise SendGridError.one(400, "url is required", "url")
    payload = json.dumps(sample_event()).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "SendGrid Event API"}
    if endpoint is not None and endpoint.signed:
        headers.update(_signer(request).headers(payload, str(int(time.time()))))
    import httpx  # here, not at start: importing it costs start-up time

    try:
        async with httpx.AsyncClient(timeout=5) as client:
            await client.post(url, content=payload, headers=headers)
    except httpx.HTTPError as exc:  # the receiver's problem; SendGrid answers 204 all the same
        log.info("webhook test POST to %s failed: %s", url, exc)
    return Response(status_code=204)
