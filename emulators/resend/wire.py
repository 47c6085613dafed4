"""What every Resend route shares: the API key, the JSON body, the JSON answer.

Any ``Authorization: Bearer <key>`` is accepted (the key names the inbox) unless
``--resend-api-key`` lists keys; then a key neither listed nor created through ``/api-keys``
is Resend's 403 ``invalid_api_key``. No key
at all is 401 ``missing_api_key``. Bodies are JSON; a malformed one is a
``validation_error``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from mailsandbox.emulators.common.auth import bearer_token
from mailsandbox.emulators.common.json_body import BodyError, read_json
from mailsandbox.emulators.resend.errors import ResendError, validation
from mailsandbox.runtime import Sandbox

# Resend's paths at the root (``/templates`` and ``/webhooks`` also Postmark's, for requests
# with Postmark's token header: its family is tried first).
PATHS = ("/emails", "/domains", "/api-keys", "/templates", "/webhooks")
MAX_BODY = 50 * 1024 * 1024  # 40 MB of attachments per email, base64 in the JSON
TEAM_TOPIC = "resend.account"  # team mode: webhooks or API keys changed on another replica
CREATED_KEYS = "resend.created_keys"  # keys created through /api-keys (accepted too)


@dataclass(frozen=True)
class Caller:
    key: str
    sandbox: Sandbox


def authorize(request: Request) -> Caller:
    sandbox: Sandbox = request.app.state.sandbox
    key = bearer_token(request)
    if not key:
        raise ResendError(401, "missing_api_key", "Missing API key in the authorization header.")
    if sandbox.settings.resend_api_key and not _listed(sandbox, key):
        raise ResendError(403, "invalid_api_key", "API key is invalid.")
    return Caller(key, sandbox)


def _listed(sandbox: Sandbox, key: str) -> bool:
    """A key ``--resend-api-key`` gave, or one created through ``/api-keys``."""
    return key in sandbox.settings.resend_api_key or key in sandbox.extensions.get(CREATED_KEYS, ())


def enforced_key(request: Request) -> bool:
    """Whether the request carries a key ``--resend-api-key`` enforces, or one created through
    ``/api-keys`` while it did (what the security layer asks of management calls when the
    sandbox runs with ``--ui-auth``)."""
    sandbox: Sandbox = request.app.state.sandbox
    key = bearer_token(request)
    return bool(sandbox.settings.resend_api_key and key) and _listed(sandbox, key or "")


async def body(request: Request) -> Any:
    """The decoded JSON body (None for an empty one)."""
    try:
        return await read_json(request, MAX_BODY)
    except BodyError as exc:
        if exc.too_large:
            raise ResendError(413, "validation_error", "The request body is too large.") from None
        raise validation("The request body is not valid JSON.", 400) from exc


async def object_body(request: Request) -> dict[str, Any]:
    data = await body(request)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise validation("The request body must be a JSON object.", 400)
    return data


def answer(data: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(data, separators=(",", ":")), status_code=status, media_type="application/json"
    )


def listing(items: list[dict[str, Any]], request: Request) -> dict[str, Any]:
    """Resend's list envelope, paged by ``limit`` (1-100) and ``after``/``before`` ids."""
    q = request.query_params
    raw = q.get("limit") or "20"
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise validation("The `limit` parameter must be a number between 1 and 100.")
    limit = int(raw)
    ids = [str(i.get("id")) for i in items]
    start, end = 0, len(items)
    if q.get("after") in ids:
        start = ids.index(q["after"]) + 1
    elif q.get("before") in ids:
        end = ids.index(q["before"])
        start = max(end - limit, 0)
    page = items[start:end][:limit]
    return {"object": "list", "has_more": start + len(page) < end, "data": page}
