"""Inbound Parse settings: ``/v3/user/webhooks/parse/settings[/{hostname}]`` (list, create, get,
update, delete), as twilio/sendgrid-oai ``tsg_webhooks_v3.json`` describes them.

A setting is ``{url, hostname, spam_check, send_raw}``; the hostname is its key (unique, compared
case-insensitively; it cannot be changed by PATCH). Kept in the shared webhook store (provider
``sendgrid-parse``, scope = the lower-cased hostname), where :mod:`.inbound_parse` reads them for
each message. Wording of the errors (SendGrid's envelope; 400 "duplicate entry" for a hostname
that exists, 404 for an unknown one) follows what apps see from the real API; the exact texts of
the validation errors are not documented [unverified].
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from mailsandbox.emulators.sendgrid import PARSE as PROVIDER
from mailsandbox.emulators.sendgrid.auth import authorize
from mailsandbox.emulators.sendgrid.body import read_object
from mailsandbox.emulators.sendgrid.errors import SendGridError, not_found
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import webhooks as store
from mailsandbox.storage.sql import Connection

FLAGS = ("spam_check", "send_raw")
router = APIRouter(prefix="/v3/user/webhooks/parse", dependencies=[Depends(authorize)])


def setting_json(endpoint: store.WebhookEndpoint) -> dict[str, Any]:
    details = endpoint.details
    return {
        "url": endpoint.url,
        "hostname": str(details.get("hostname", endpoint.scope)),
        "spam_check": bool(details.get("spam_check")),
        "send_raw": bool(details.get("send_raw")),
    }


def parse_settings(conn: Connection) -> list[store.WebhookEndpoint]:
    return store.list_endpoints(conn, PROVIDER)


def _find(conn: Connection, hostname: str) -> store.WebhookEndpoint | None:
    found = store.list_endpoints(conn, PROVIDER, hostname.strip().lower())
    return found[0] if found else None


def _apply(endpoint: store.WebhookEndpoint, body: dict[str, Any]) -> store.WebhookEndpoint:
    """Merge ``url`` and the flags of a body into a setting (400 on wrong types)."""
    if "url" in body:
        url = body["url"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise SendGridError.one(400, "url must be a valid http(s) URL", "url")
        endpoint.url = url
    for flag in FLAGS:
        if flag in body:
            if not isinstance(body[flag], bool):
                raise SendGridError.one(400, f"{flag} must be a boolean", flag)
            endpoint.details[flag] = body[flag]
    return endpoint


def _sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


async def _existing(request: Request, hostname: str) -> store.WebhookEndpoint:
    endpoint = await _sandbox(request).db.read(lambda conn: _find(conn, hostname))
    if endpoint is None:
        raise not_found("hostname")
    return endpoint


@router.get("/settings")
async def list_settings(request: Request) -> JSONResponse:
    found = await _sandbox(request).db.read(parse_settings)
    return JSONResponse({"result": [setting_json(e) for e in found]})


@router.post("/settings")
async def create_setting(request: Request) -> JSONResponse:
    body = await read_object(request)
    hostname = body.get("hostname")
    if not isinstance(hostname, str) or not hostname.strip() or "@" in hostname:
        raise SendGridError.one(400, "hostname is required", "hostname")
    if "url" not in body:
        raise SendGridError.one(400, "url is required", "url")
    endpoint = store.WebhookEndpoint(provider=PROVIDER, url="", scope=hostname.strip().lower())
    endpoint.details = {"hostname": hostname.strip(), "spam_check": False, "send_raw": False}
    _apply(endpoint, body)

    def write(conn: Connection) -> store.WebhookEndpoint | None:
        if _find(conn, hostname) is not None:
            return None
        return store.save(conn, endpoint)

    saved = await _sandbox(request).db.write(write)
    if saved is None:
        raise SendGridError.one(400, "duplicate entry", "hostname")
    return JSONResponse(setting_json(saved), status_code=201)


@router.get("/settings/{hostname}")
async def get_setting(hostname: str, request: Request) -> JSONResponse:
    return JSONResponse(setting_json(await _existing(request, hostname)))


@router.patch("/settings/{hostname}")
async def update_setting(hostname: str, request: Request) -> JSONResponse:
    endpoint = await _existing(request, hostname)
    body = await read_object(request)
    updated = _apply(endpoint, body)
    await _sandbox(request).db.write(lambda conn: store.save(conn, updated))
    return JSONResponse(setting_json(updated))


@router.delete("/settings/{hostname}")
async def delete_setting(hostname: str, request: Request) -> Response:
    endpoint = await _existing(request, hostname)
    await _sandbox(request).db.write(lambda conn: store.delete(conn, endpoint.id))
    return Response(status_code=204)
