"""Helpers shared by API routes: the running Sandbox, Go-style JSON, errors, Go-style body decoding.

Errors are JSON ``{"Error": "<message>"}`` with the right status (404 unknown message, 400 bad
input); Mailpit's clients only look at the status. Successes that Mailpit answers with a bare
``ok`` stay ``text/plain`` ``ok``.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, PlainTextResponse

from mailsandbox import safejson
from mailsandbox.runtime import Sandbox

MAX_BODY = 5 * 1024 * 1024
MAX_INT = 2**31 - 1


async def get_sandbox(request: Request) -> Sandbox:
    """The app's Sandbox (``async``: FastAPI runs a plain function dependency in a worker
    thread, a hop per request; the first one also imports anyio's thread pool, ~15 ms on
    the way to the first ``/readyz``)."""
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


class GoJSONResponse(JSONResponse):
    """Compact JSON plus a trailing newline, as Go's ``json.Encoder`` writes it."""

    def render(self, content: Any) -> bytes:
        return (json.dumps(content, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


SEARCH_INCOMPLETE = "X-Search-Incomplete"


def search_headers(sandbox: Sandbox) -> dict[str, str]:
    """Headers for a search response: while the search index cannot be written (a full
    disk), ``X-Search-Incomplete`` says how many acknowledged messages it lacks and why."""
    notice = sandbox.mailbox.index.incomplete()
    if not notice:
        return {}
    return {SEARCH_INCOMPLETE: notice.encode("latin-1", "replace").decode("latin-1")}


def ok() -> PlainTextResponse:
    return PlainTextResponse("ok")


def error(status: int, text: str) -> GoJSONResponse:
    return GoJSONResponse({"Error": text}, status_code=status)


def not_found(text: str = "Message not found") -> GoJSONResponse:
    return error(404, text)


def bad_request(text: str) -> GoJSONResponse:
    return error(400, text)


class BodyError(ValueError):
    """The request body is not the JSON the endpoint expects (Go's decode error)."""


async def json_body(request: Request, *, optional: bool = False) -> dict[str, Any] | None:
    """The body as a JSON object, keys folded to lower case (Go matches fields that way).

    An empty body is ``None`` when ``optional``; otherwise it, invalid JSON, or a non-object
    raise :class:`BodyError`.
    """
    try:
        raw = await safejson.read_body(request, MAX_BODY)
    except safejson.BodyTooLarge:
        raise BodyError("http: request body too large") from None
    if not raw.strip():
        if optional:
            return None
        raise BodyError("EOF")
    try:
        value = await safejson.loads_off_loop(raw)
    except safejson.JSONInputError as exc:
        raise BodyError(str(exc)) from None
    if not isinstance(value, dict):
        raise BodyError("json: cannot unmarshal into an object")
    return {str(k).lower(): v for k, v in value.items()}


def string_list(body: dict[str, Any] | None, key: str) -> list[str]:
    """A ``[]string`` field; a wrong type is a decode error, as in Go."""
    value = (body or {}).get(key.lower())
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BodyError(f"json: cannot unmarshal {key} into []string")
    return value


def string_field(body: dict[str, Any] | None, key: str) -> str:
    value = (body or {}).get(key.lower())
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BodyError(f"json: cannot unmarshal {key} into string")
    return value


def bool_field(body: dict[str, Any] | None, key: str) -> bool:
    value = (body or {}).get(key.lower())
    if value is None:
        return False
    if not isinstance(value, bool):
        raise BodyError(f"json: cannot unmarshal {key} into bool")
    return value


def int_param(value: str | None, default: int) -> int:
    """A non-negative integer query parameter; anything else gives the default."""
    try:
        number = int(value) if value is not None else default
    except ValueError:
        return default
    return min(number, MAX_INT) if number >= 0 else default
