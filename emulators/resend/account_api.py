"""Resend's domains and API keys: ``/domains`` and ``/api-keys`` (list, create, get, delete).

A sandbox has no DNS to check: a domain is verified as soon as it exists. The domains listed
are the ones created through the API plus every sender domain the app has sent from; the API
keys listed are the ones created through the API, the ``--resend-api-key`` keys and every key
the app has sent with. A key created here is accepted even when ``--resend-api-key`` restricts
the keys. Shapes from the resend SDKs (``Domain``, ``ApiKey``).
"""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from mailsandbox.emulators.common.ids import new_uuid
from mailsandbox.emulators.resend.errors import not_found, validation
from mailsandbox.emulators.resend.resources import (
    Resource,
    created_keys,
    delete_resource,
    resources,
    save,
)
from mailsandbox.emulators.resend.sending import created_text
from mailsandbox.emulators.resend.wire import (
    TEAM_TOPIC,
    answer,
    authorize,
    listing,
    object_body,
)
from mailsandbox.storage.sql import Connection

_NAMESPACE = uuid.UUID("7f1c5a0e-8d2b-4c3f-9e6a-1b2c3d4e5f60")
REGIONS = ("us-east-1", "eu-west-1", "sa-east-1", "ap-northeast-1")


def _stable_id(kind: str, name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{name}"))


# --- domains -----------------------------------------------------------------------------
def _domain_json(item: Resource) -> dict[str, Any]:
    return {
        "id": item.id,
        "name": item.name,
        "status": "verified",
        "created_at": created_text(item.created),
        "region": item.data.get("region", "us-east-1"),
        "capabilities": {"sending": "enabled", "receiving": "disabled"},
    }


def _domains(conn: Connection) -> list[Resource]:
    created = resources(conn, "domain")
    known = {d.name for d in created}
    rows = conn.execute(
        "SELECT mail_from, MIN(created) FROM messages WHERE source = 'resend' GROUP BY mail_from"
    ).fetchall()
    seen: dict[str, float] = {}
    for sender, first in rows:
        domain = str(sender).rpartition("@")[2].lower()
        if domain and domain not in known:
            seen[domain] = min(first, seen.get(domain, first))
    found = [Resource(_stable_id("domain", d), "domain", d, {}, t) for d, t in seen.items()]
    return sorted(created + found, key=lambda d: d.created, reverse=True)


async def list_domains(request: Request) -> Response:
    caller = authorize(request)
    found = await caller.sandbox.db.read(_domains)
    return answer(listing([_domain_json(d) for d in found], request))


def _records(name: str) -> list[dict[str, Any]]:
    return [
        {"record": "SPF", "name": f"send.{name}", "type": "TXT", "ttl": "Auto",
         "status": "verified", "value": "v=spf1 include:amazonses.com ~all"},
        {"record": "DKIM", "name": f"resend._domainkey.{name}", "type": "TXT", "ttl": "Auto",
         "status": "verified", "value": "p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQ"},
    ]  # fmt: skip


async def create_domain(request: Request) -> Response:
    caller = authorize(request)
    data = await object_body(request)
    name = str(data.get("name") or "").strip().lower()
    if not name or "." not in name or "@" in name:
        raise validation("Missing or invalid `name` field: a domain name such as example.com.")
    region = str(data.get("region") or "us-east-1")
    if region not in REGIONS:
        raise validation(f"Region must be one of {', '.join(REGIONS)}.")
    item = Resource(new_uuid(), "domain", name, {"region": region}, time.time())
    await caller.sandbox.db.write(lambda conn: save(conn, item))
    return answer({**_domain_json(item), "records": _records(name)})


async def _domain(request: Request) -> tuple[Any, Resource]:
    caller = authorize(request)
    domain_id = request.path_params["domain"]
    found = await caller.sandbox.db.read(_domains)
    match = next((d for d in found if d.id == domain_id), None)
    if match is None:
        raise not_found("Domain not found")
    return caller, match


async def get_domain(request: Request) -> Response:
    _, item = await _domain(request)
    return answer({"object": "domain", **_domain_json(item), "records": _records(item.name)})


async def verify_domain(request: Request) -> Response:
    _, item = await _domain(request)
    return answer({"object": "domain", "id": item.id})


async def delete_domain(request: Request) -> Response:
    caller, item = await _domain(request)
    await caller.sandbox.db.write(lambda conn: delete_resource(conn, "domain", item.id))
    return answer({"object": "domain", "id": item.id, "deleted": True})


# --- API keys ----------------------------------------------------------------------------
def _keys(conn: Connection, configured: list[str]) -> list[Resource]:
    created = resources(conn, "api_key")
    tokens = {str(k.data.get("token")) for k in created}
    used = conn.execute(
        "SELECT username, MIN(created) FROM messages WHERE source = 'resend' AND username != ''"
        " GROUP BY username"
    ).fetchall()
    others = {key: 0.0 for key in configured}
    others.update({str(key): first for key, first in used})
    found = [
        Resource(_stable_id("api_key", key), "api_key", f"{key[:6]}…", {}, first)
        for key, first in others.items()
        if key not in tokens
    ]
    return sorted(created + found, key=lambda k: k.created, reverse=True)


async def list_keys(request: Request) -> Response:
    caller = authorize(request)
    configured = list(caller.sandbox.settings.resend_api_key)
    found = await caller.sandbox.db.read(lambda conn: _keys(conn, configured))
    items = [{"id": k.id, "name": k.name, "created_at": created_text(k.created)} for k in found]
    return answer(listing(items, request))


async def create_key(request: Request) -> Response:
    caller = authorize(request)
    data = await object_body(request)
    name = str(data.get("name") or "").strip()
    if not name:
        raise validation("Missing `name` field.")
    permission = str(data.get("permission") or "full_access")
    if permission not in ("full_access", "sending_access"):
        raise validation('Access must be "full_access" | "sending_access".')
    token = "re_" + secrets.token_urlsafe(24)
    item = Resource(new_uuid(), "api_key", name, {"token": token, "permission": permission},
                    time.time())  # fmt: skip
    await caller.sandbox.db.write(lambda conn: save(conn, item))
    created_keys(caller.sandbox).add(token)
    caller.sandbox.team.changed(TEAM_TOPIC)
    return answer({"id": item.id, "token": token})


async def delete_key(request: Request) -> Response:
    caller = authorize(request)
    key_id = request.path_params["key"]

    def write(conn: Connection) -> str | None:
        item = next((k for k in resources(conn, "api_key") if k.id == key_id), None)
        if item is None:
            return None
        delete_resource(conn, "api_key", key_id)
        return str(item.data.get("token"))

    token = await caller.sandbox.db.write(write)
    if token is None:
        raise not_found("API key not found")
    created_keys(caller.sandbox).discard(token)
    caller.sandbox.team.changed(TEAM_TOPIC)
    return answer({"object": "api_key", "id": key_id, "deleted": True})


ROUTES = [
    ("GET", "/domains", list_domains),
    ("POST", "/domains", create_domain),
    ("GET", "/domains/{domain}", get_domain),
    ("POST", "/domains/{domain}/verify", verify_domain),
    ("DELETE", "/domains/{domain}", delete_domain),
    ("GET", "/api-keys", list_keys),
    ("POST", "/api-keys", create_key),
    ("DELETE", "/api-keys/{key}", delete_key),
]
