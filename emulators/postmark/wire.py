"""What every Postmark route shares: the server token, the JSON body, the JSON answer.

Any ``X-Postmark-Server-Token`` is accepted (it names the inbox) unless
``--postmark-server-token`` lists tokens; ``POSTMARK_API_TEST`` is always accepted and behaves
as Postmark's test token (sends are checked and answered "Test job accepted", nothing is
stored). Bodies must be JSON (Postmark's code 409 otherwise, 402 for malformed JSON).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import Headers

from mailsandbox.api.surface import reads_headers_under, under
from mailsandbox.emulators.common.auth import header_token
from mailsandbox.emulators.common.json_body import BodyError, read_json
from mailsandbox.emulators.postmark.errors import (
    BAD_TOKEN,
    BAD_TOKEN_MESSAGE,
    INVALID_EMAIL,
    INVALID_JSON,
    JSON_REQUIRED,
    NO_TOKEN_MESSAGE,
    PostmarkError,
)
from mailsandbox.runtime import Sandbox

TOKEN_HEADER = "x-postmark-server-token"
# Postmark's paths at the root; the shared ones are Resend's too (the token header decides).
PATHS = ("/email", "/bounces", "/deliverystats", "/message-streams", "/messages")
SHARED_PATHS = ("/templates", "/webhooks")
TEST_TOKEN = "POSTMARK_API_TEST"
MAX_BODY = 50 * 1024 * 1024  # a batch of messages up to 10 MB each, base64 in JSON


@dataclass(frozen=True)
class Caller:
    token: str
    sandbox: Sandbox

    @property
    def test(self) -> bool:
        return self.token == TEST_TOKEN


def _claims_shared(_method: str, path: str, headers: Headers) -> bool:
    """Whether a request on a path Postmark shares with Resend (``/templates``, ``/webhooks``)
    is Postmark's: it carries Postmark's token header (Resend's carry a Bearer key)."""
    return TOKEN_HEADER in headers and under(path, SHARED_PATHS)


claims_shared = reads_headers_under(SHARED_PATHS, _claims_shared)


def enforced_key(request: Request) -> bool:
    """Whether the request carries a token ``--postmark-server-token`` enforces (what the
    security layer asks of management calls when the sandbox runs with ``--ui-auth``; the
    public test token is not one)."""
    allowed = request.app.state.sandbox.settings.postmark_server_token
    return bool(allowed) and header_token(request, TOKEN_HEADER) in allowed


def authorize(request: Request) -> Caller:
    sandbox: Sandbox = request.app.state.sandbox
    token = header_token(request, TOKEN_HEADER)
    if not token:
        raise PostmarkError(BAD_TOKEN, NO_TOKEN_MESSAGE, 401)
    allowed = sandbox.settings.postmark_server_token
    if allowed and token not in allowed and token != TEST_TOKEN:
        raise PostmarkError(BAD_TOKEN, BAD_TOKEN_MESSAGE, 401)
    return Caller(token, sandbox)


async def body(request: Request, *, required: bool = True) -> Any:
    """The decoded JSON body (None for an empty one when not ``required``)."""
    media = request.headers.get("content-type", "application/json")
    if "json" not in media.lower():
        raise PostmarkError(
            JSON_REQUIRED,
            "Your HTTP request does not have the Accept and Content-Type headers set to"
            " application/json.",
        )
    try:
        data = await read_json(request, MAX_BODY)
    except BodyError as exc:
        if exc.too_large:
            raise PostmarkError(
                INVALID_EMAIL, "The request is larger than Postmark accepts."
            ) from None
        raise PostmarkError(INVALID_JSON, "Received invalid JSON input.") from exc
    if data is None and required:
        raise PostmarkError(INVALID_JSON, "Received invalid JSON input.")
    return data


def answer(data: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(data, separators=(",", ":")), status_code=status, media_type="application/json"
    )


def int_param(request: Request, name: str, default: int, code: int, *, most: int = 500) -> int:
    """A non-negative integer query parameter (``count``, ``offset``), Postmark's query error
    ``code`` otherwise."""
    raw = request.query_params.get(name) or request.query_params.get(name.capitalize())
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) > most:
        raise PostmarkError(code, f"The '{name}' parameter must be a number from 0 to {most}.")
    return int(raw)
