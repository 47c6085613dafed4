"""Mailgun webhook management: ``/v3/domains/{domain}/webhooks[/{name}]``, the ``test`` call,
and ``GET /v5/accounts/http_signing_key``.

Stored with ``sandbox.storage.webhooks`` for the event engine: provider ``mailgun``, scope =
domain, one row per (domain, webhook name), ``events=[name]``, ``url`` = first URL,
``details={"urls": [...]}``, signed with ``sandbox.extensions["mailgun.signer"]``.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from mailsandbox import ids
from mailsandbox.emulators.mailgun.auth import Caller, caller, check_key
from mailsandbox.emulators.mailgun.errors import bad_request, mg_json, not_found
from mailsandbox.emulators.mailgun.event_format import mailgun_event
from mailsandbox.emulators.mailgun.forms import read_form
from mailsandbox.emulators.mailgun.signing import MailgunSigner
from mailsandbox.events.dispatcher import split_userinfo
from mailsandbox.mime import Address
from mailsandbox.storage import webhooks as store
from mailsandbox.storage.events import DeliveryEvent
from mailsandbox.storage.messages import MessageSummary
from mailsandbox.storage.sql import Connection

NAMES = {
    "accepted": "queued",
    "clicked": "clicked",
    "complained": "complained",
    "delivered": "delivered",
    "opened": "opened",
    "permanent_fail": "bounced",
    "temporary_fail": "deferred",
    "unsubscribed": "unsubscribed",
}
MAX_URLS = 3
PREFIX = "/v3/domains/{domain}/webhooks"
router = APIRouter()


def find_hook(conn: Connection, domain: str, name: str) -> store.WebhookEndpoint | None:
    """The domain webhook ``name`` (one row per domain and webhook name)."""
    rows = store.list_endpoints(conn, "mailgun", domain)
    return next((e for e in rows if e.events == [name]), None)


def hook_urls(endpoint: store.WebhookEndpoint) -> list[str]:
    urls = endpoint.details.get("urls")
    return list(urls) if isinstance(urls, list) else [endpoint.url]


def domain_hooks(conn: Connection, domain: str) -> dict[str, dict[str, list[str]]]:
    """``{"<name>": {"urls": [...]}}``, the ``webhooks`` of ``GET .../webhooks``."""
    rows = store.list_endpoints(conn, "mailgun", domain)
    return {e.events[0]: {"urls": hook_urls(e)} for e in rows if e.events}


def set_hook_urls(conn: Connection, domain: str, name: str, urls: list[str]) -> None:
    """Make the domain webhook ``name`` POST to ``urls`` (none: delete it)."""
    endpoint = find_hook(conn, domain, name)
    if not urls:
        if endpoint is not None:
            store.delete(conn, endpoint.id)
        return
    if endpoint is None:
        endpoint = store.WebhookEndpoint(
            provider="mailgun", url=urls[0], events=[name], scope=domain, signed=True
        )
    endpoint.url, endpoint.details = urls[0], {**endpoint.details, "urls": urls}
    store.save(conn, endpoint)


async def _form_urls(request: Request) -> tuple[str, list[str]]:
    form = await read_form(request)
    urls = [u.strip() for u in form.all("url") if u.strip()]
    if not urls:
        raise bad_request("url is missing")
    if len(urls) > MAX_URLS:
        raise bad_request(f"Too many URLs: at most {MAX_URLS} per webhook")
    return form.first("id").strip(), urls


def check_name(name: str) -> None:
    if name not in NAMES:
        raise bad_request(f"Invalid webhook id: {name}. Valid ids: {', '.join(NAMES)}")


@router.get(PREFIX)
async def list_webhooks(c: Caller = Depends(caller)) -> JSONResponse:
    hooks = await c.sandbox.db.read(lambda conn: domain_hooks(conn, c.domain))
    return mg_json({"webhooks": hooks})


async def _existing(c: Caller, name: str) -> store.WebhookEndpoint:
    endpoint = await c.sandbox.db.read(lambda conn: find_hook(conn, c.domain, name))
    if endpoint is None:
        raise not_found("Webhook not found")
    return endpoint


@router.get(PREFIX + "/{name}")
async def get_webhook(name: str, c: Caller = Depends(caller)) -> JSONResponse:
    return mg_json({"webhook": {"urls": hook_urls(await _existing(c, name))}})


@router.post(PREFIX)
async def create_webhook(request: Request, c: Caller = Depends(caller)) -> JSONResponse:
    name, urls = await _form_urls(request)
    check_name(name)

    def write(conn: Connection) -> bool:
        if find_hook(conn, c.domain, name) is not None:
            return False
        set_hook_urls(conn, c.domain, name, urls)
        return True

    if not await c.sandbox.db.write(write):
        raise bad_request("Webhook already exists")
    return mg_json({"message": "Webhook has been created", "webhook": {"urls": urls}})


@router.put(PREFIX + "/{name}")
async def update_webhook(name: str, request: Request, c: Caller = Depends(caller)) -> JSONResponse:
    await _existing(c, name)
    _, urls = await _form_urls(request)
    await c.sandbox.db.write(lambda conn: set_hook_urls(conn, c.domain, name, urls))
    return mg_json({"message": "Webhook has been updated", "webhook": {"urls": urls}})


@router.delete(PREFIX + "/{name}")
async def delete_webhook(name: str, c: Caller = Depends(caller)) -> JSONResponse:
    endpoint = await _existing(c, name)
    await c.sandbox.db.write(lambda conn: store.delete(conn, endpoint.id))
    urls = hook_urls(endpoint)
    return mg_json({"message": "Webhook has been deleted", "webhook": {"urls": urls}})


def sample_payload(signer: MailgunSigner, domain: str, name: str) -> dict[str, object]:
    """A signed webhook body for a made-up message, as the ``test`` call sends it."""
    message = MessageSummary(
        id=ids.new_id(),
        message_id=f"{ids.new_id()}@{domain}",
        read=False,
        from_=Address("", f"sender@{domain}"),
        to=[Address("", "alice@example.com")],
        cc=[],
        bcc=[],
        reply_to=[],
        subject="Mailsandbox webhook test",
        created=time.time(),
        username="",
        tags=[],
        size=0,
        attachments=0,
        snippet="",
        source="mailgun",
        recipients=["alice@example.com"],
        metadata={"mailgun": {"domain": domain}},
    )
    event = DeliveryEvent(
        message_id=message.id,
        type=NAMES[name],
        recipient="alice@example.com",
        provider="mailgun",
        id=ids.new_id(),
        created=time.time(),
    )
    return {"signature": signer.signature_block(), "event-data": mailgun_event(event, message)}


@router.put(PREFIX + "/{name}/test")
async def test_webhook(name: str, request: Request, c: Caller = Depends(caller)) -> JSONResponse:
    check_name(name)
    form = await read_form(request)
    url = form.first("url").strip()
    if not url:
        raise bad_request("url is missing")
    target, headers = split_userinfo(url)
    payload = sample_payload(c.sandbox.extensions["mailgun.signer"], c.domain, name)
    import httpx  # here, not at start: importing it costs start-up time

    try:
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.post(target, json=payload, headers=headers)
    except httpx.HTTPError as exc:
        return mg_json({"code": 500, "message": f"{type(exc).__name__}: {exc}"})
    return mg_json({"code": answer.status_code, "message": answer.text[:1000]})


@router.get("/v5/accounts/http_signing_key")
async def signing_key(request: Request) -> JSONResponse:
    sandbox = request.app.state.sandbox
    check_key(request, sandbox)
    return mg_json({"http_signing_key": sandbox.extensions["mailgun.signer"].key})
