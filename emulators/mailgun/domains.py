"""``GET /v4/domains`` and ``GET /v4/domains/{name}``: the sending domains the sandbox has seen,
in Mailgun's domain shape (documentation.mailgun.com, API reference "Domains"; mailgun.js
``domains.list`` / ``domains.get`` and its ``Domain`` class). The same answers at ``/v3/domains``
and ``/v3/domains/{name}``, which the official Python SDK's ``domains.get()`` calls.

A domain is known once the sandbox has seen it: mail sent through it, a webhook, template or
suppression list of it, or a ``--mailgun-domain`` setting. Each is ``active`` and verified, its
DNS records marked ``valid``: nothing in a sandbox waits for DNS. The list takes ``limit``
(default 100, at most 1000), ``skip`` and ``search`` (part of the name).
"""

from __future__ import annotations

import hashlib
from email.utils import formatdate
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from mailsandbox.emulators.mailgun.auth import Caller, caller
from mailsandbox.emulators.mailgun.errors import mg_json, not_found
from mailsandbox.emulators.mailgun.forms import int_param
from mailsandbox.storage.sql import Connection

router = APIRouter()
MAX_LIMIT = 1000
SEEN_SQL = (
    "SELECT name, MIN(created) FROM (SELECT json_extract(metadata_json, '$.mailgun.domain')"
    " AS name, created FROM messages) AS sent WHERE name IS NOT NULL AND name != ''"
    " GROUP BY name",
    "SELECT scope, MIN(created) FROM webhook_endpoints"
    " WHERE provider = 'mailgun' AND scope LIKE '%.%' GROUP BY scope",
    "SELECT scope, MIN(created) FROM suppressions WHERE scope LIKE '%.%'"
    " AND scope NOT LIKE 'asm:%' GROUP BY scope",
    "SELECT domain, MIN(created) FROM mailgun_templates GROUP BY domain",
)


def seen_domains(conn: Connection, configured: list[str], since: float) -> dict[str, float]:
    """Every domain the sandbox knows, with when it first saw it."""
    found = {name.lower(): since for name in configured}
    for sql in SEEN_SQL:
        for name, first in conn.execute(sql):
            key = str(name).lower()
            found[key] = min(found.get(key, first), first)
    return dict(sorted(found.items()))


def domain_json(name: str, created: float) -> dict[str, Any]:
    return {
        "created_at": formatdate(created, usegmt=True),
        "id": hashlib.sha1(name.encode()).hexdigest()[:24],
        "is_disabled": False,
        "name": name,
        "require_tls": False,
        "skip_verification": False,
        "smtp_login": f"postmaster@{name}",
        "spam_action": "disabled",
        "state": "active",
        "type": "custom",
        "use_automatic_sender_security": False,
        "web_prefix": "email",
        "web_scheme": "http",
        "wildcard": False,
    }


def _records(name: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(receiving, sending) DNS records, as Mailgun would ask for them; all valid."""
    receiving: list[dict[str, Any]] = [
        {"cached": [], "priority": "10", "record_type": "MX", "valid": "valid", "value": mx}
        for mx in ("mxa.mailgun.org", "mxb.mailgun.org")
    ]
    sending = [
        {
            "cached": [],
            "name": name,
            "record_type": "TXT",
            "valid": "valid",
            "value": "v=spf1 include:mailgun.org ~all",
        },
        {
            "cached": [],
            "name": f"email.{name}",
            "record_type": "CNAME",
            "valid": "valid",
            "value": "mailgun.org",
        },
    ]
    return receiving, sending


async def _known(request: Request, c: Caller) -> dict[str, float]:
    sandbox = c.sandbox
    configured = list(sandbox.settings.mailgun_domain)
    return await sandbox.db.read(lambda conn: seen_domains(conn, configured, sandbox.started_at))


@router.get("/v4/domains")
@router.get("/v3/domains")
async def list_domains(request: Request) -> JSONResponse:
    c = await caller(request)
    q = request.query_params
    limit = int_param(q.get("limit"), "limit", 100, MAX_LIMIT)
    skip = int(q["skip"]) if q.get("skip", "").isdigit() else 0
    search = q.get("search", "").lower()
    known = [(n, t) for n, t in (await _known(request, c)).items() if search in n]
    items = [domain_json(n, t) for n, t in known[skip : skip + limit]]
    return mg_json({"total_count": len(known), "items": items})


@router.get("/v4/domains/{domain}")
@router.get("/v3/domains/{domain}")
async def get_domain(request: Request, c: Caller = Depends(caller)) -> JSONResponse:
    created = (await _known(request, c)).get(c.domain.lower())
    if created is None:
        raise not_found("Domain not found")
    receiving, sending = _records(c.domain.lower())
    return mg_json(
        {
            "domain": domain_json(c.domain.lower(), created),
            "receiving_dns_records": receiving,
            "sending_dns_records": sending,
        }
    )
