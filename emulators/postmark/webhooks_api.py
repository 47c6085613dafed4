"""``/webhooks``: Postmark's webhooks API (list by stream, get, create, edit, delete), on the
shared webhook store: provider ``postmark``, scope = the message stream, ``events`` = the
enabled triggers, the numeric ``ID`` and the settings in ``details``.

A webhook's ``HttpAuth`` becomes the userinfo of the stored URL (the dispatcher sends it as
Basic auth, as it does for a URL given with ``user:pass@``); its ``HttpHeaders`` go with every
POST. Shapes from the postmark.js client's ``Webhook`` models.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from fastapi import Request
from fastapi.responses import Response

from mailsandbox.emulators.postmark.errors import (
    INVALID_FIELDS,
    INVALID_WEBHOOK_URL,
    RESOURCE_NOT_FOUND,
    PostmarkError,
)
from mailsandbox.emulators.postmark.sending import DEFAULT_STREAM
from mailsandbox.emulators.postmark.streams import streams_of
from mailsandbox.emulators.postmark.wire import answer, authorize, body
from mailsandbox.storage import webhooks as store
from mailsandbox.storage.sql import Connection

TRIGGERS = ("Open", "Click", "Delivery", "Bounce", "SpamComplaint", "SubscriptionChange")
OPTIONS = {
    "Open": "PostFirstOpenOnly",
    "Bounce": "IncludeContent",
    "SpamComplaint": "IncludeContent",
}


def _number(endpoint: store.WebhookEndpoint) -> int:
    return int(endpoint.details.get("number") or 0)


def webhook_json(e: store.WebhookEndpoint) -> dict[str, Any]:
    settings = e.details.get("Triggers") or {}
    triggers: dict[str, Any] = {}
    for name in TRIGGERS:
        trigger: dict[str, Any] = {"Enabled": name in e.events}
        if name in OPTIONS:
            trigger[OPTIONS[name]] = bool((settings.get(name) or {}).get(OPTIONS[name]))
        triggers[name] = trigger
    out: dict[str, Any] = {"ID": _number(e), "Url": e.details.get("Url", e.url)}
    out["MessageStream"] = e.scope
    auth = e.details.get("HttpAuth")
    if auth:
        out["HttpAuth"] = auth
    out["HttpHeaders"] = e.details.get("HttpHeaders") or []
    out["Triggers"] = triggers
    return out


def _find(conn: Connection, number: str) -> store.WebhookEndpoint:
    for endpoint in store.list_endpoints(conn, provider="postmark"):
        if str(_number(endpoint)) == number:
            return endpoint
    raise PostmarkError(RESOURCE_NOT_FOUND, f"The webhook '{number}' was not found.")


def _with_auth(url: str, auth: dict[str, str] | None) -> str:
    if not auth:
        return url
    parts = urlsplit(url)
    user = quote(str(auth.get("Username", "")), safe="")
    password = quote(str(auth.get("Password", "")), safe="")
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}"))


def _apply(e: store.WebhookEndpoint, data: dict[str, Any]) -> None:
    """Merge a create/edit body into ``e`` (Postmark's codes for a bad URL or fields)."""
    if "Url" in data:
        url = str(data.get("Url") or "")
        if not url.startswith(("http://", "https://")) or not urlsplit(url).hostname:
            raise PostmarkError(INVALID_WEBHOOK_URL, f"Invalid webhook URL: '{url}'.")
        e.details["Url"] = url
    if "HttpAuth" in data:
        auth = data.get("HttpAuth")
        if auth is not None and not isinstance(auth, dict):
            raise PostmarkError(INVALID_FIELDS, "HttpAuth must be {Username, Password}.")
        e.details["HttpAuth"] = (
            {"Username": str(auth.get("Username", "")), "Password": str(auth.get("Password", ""))}
            if auth
            else None
        )
    if "HttpHeaders" in data:
        headers = data.get("HttpHeaders") or []
        if not isinstance(headers, list) or not all(isinstance(h, dict) for h in headers):
            raise PostmarkError(INVALID_FIELDS, "HttpHeaders must be a list of {Name, Value}.")
        e.details["HttpHeaders"] = [
            {"Name": str(h.get("Name", "")), "Value": str(h.get("Value", ""))} for h in headers
        ]
    if "Triggers" in data:
        triggers = data.get("Triggers") or {}
        if not isinstance(triggers, dict):
            raise PostmarkError(INVALID_FIELDS, "Triggers must be an object.")
        settings = dict(e.details.get("Triggers") or {})
        enabled = set(e.events)
        for name, value in triggers.items():
            if name not in TRIGGERS or not isinstance(value, dict):
                raise PostmarkError(INVALID_FIELDS, f"Unknown webhook trigger '{name}'.")
            settings[name] = value
            (enabled.add if value.get("Enabled") else enabled.discard)(name)
        e.details["Triggers"] = settings
        e.events = [name for name in TRIGGERS if name in enabled]
    e.url = _with_auth(str(e.details.get("Url", "")), e.details.get("HttpAuth"))


async def list_webhooks(request: Request) -> Response:
    caller = authorize(request)
    stream = request.query_params.get("MessageStream") or request.query_params.get("messageStream")
    found = await caller.sandbox.db.read(
        lambda conn: store.list_endpoints(conn, provider="postmark", scope=stream or None)
    )
    return answer({"Webhooks": [webhook_json(e) for e in found]})


async def get_webhook(request: Request) -> Response:
    caller = authorize(request)
    number = request.path_params["webhook"]
    return answer(webhook_json(await caller.sandbox.db.read(lambda conn: _find(conn, number))))


async def create_webhook(request: Request) -> Response:
    caller = authorize(request)
    data = await body(request)
    data = data if isinstance(data, dict) else {}
    if "Url" not in data:
        raise PostmarkError(INVALID_WEBHOOK_URL, "The webhook 'Url' is required.")
    stream = streams_of(request).get(str(data.get("MessageStream") or DEFAULT_STREAM)).id
    endpoint = store.WebhookEndpoint(provider="postmark", url="", scope=stream, events=[])
    _apply(endpoint, data)

    def write(conn: Connection) -> store.WebhookEndpoint:
        existing = store.list_endpoints(conn, provider="postmark")
        endpoint.details["number"] = max((_number(e) for e in existing), default=0) + 1
        return store.save(conn, endpoint)

    return answer(webhook_json(await caller.sandbox.db.write(write)))


async def edit_webhook(request: Request) -> Response:
    caller = authorize(request)
    number = request.path_params["webhook"]
    data = await body(request)
    data = data if isinstance(data, dict) else {}
    endpoint = await caller.sandbox.db.read(lambda conn: _find(conn, number))
    _apply(endpoint, data)
    saved = await caller.sandbox.db.write(lambda conn: store.save(conn, endpoint))
    return answer(webhook_json(saved))


async def delete_webhook(request: Request) -> Response:
    caller = authorize(request)
    number = request.path_params["webhook"]
    endpoint = await caller.sandbox.db.read(lambda conn: _find(conn, number))
    await caller.sandbox.db.write(lambda conn: store.delete(conn, endpoint.id))
    return answer({"ErrorCode": 0, "Message": f"Webhook {number} removed."})


ROUTES = [
    ("GET", "/webhooks", list_webhooks),
    ("POST", "/webhooks", create_webhook),
    ("GET", "/webhooks/{webhook}", get_webhook),
    ("PUT", "/webhooks/{webhook}", edit_webhook),
    ("DELETE", "/webhooks/{webhook}", delete_webhook),
]
