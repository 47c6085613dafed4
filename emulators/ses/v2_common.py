"""What every SES v2 (REST JSON) route shares: the signed caller, the JSON body, the answers."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mailsandbox.emulators.common.json_body import BodyError, read_json
from mailsandbox.emulators.ses import aws
from mailsandbox.emulators.ses.errors import BAD_REQUEST, UNKNOWN_OPERATION, SesError
from mailsandbox.emulators.ses.sigv4 import Caller, authorize

_TAG = re.compile(r"[A-Za-z0-9_-]{1,256}")
MAX_BODY = 60 * 1024 * 1024  # a 40 MB raw message, base64-encoded in the JSON


async def body(request: Request) -> dict[str, Any]:
    """The JSON object of the request (an empty body is an empty object, as AWS reads it)."""
    try:
        data = await read_json(request, MAX_BODY)
    except BodyError as exc:
        raise SesError(BAD_REQUEST, "Could not parse request body into json.") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SesError(BAD_REQUEST, "Could not parse request body into json.")
    return data


async def caller_and_body(request: Request) -> tuple[Caller, dict[str, Any]]:
    caller = authorize(request)
    return caller, await body(request)


def answer(data: dict[str, Any] | None = None, status: int = 200) -> Response:
    """A JSON answer (``{}`` for the operations that return nothing)."""
    text = json.dumps(data or {}, separators=(",", ":"))
    return Response(
        text,
        status_code=status,
        media_type="application/json",
        headers={"x-amzn-RequestId": aws.new_uuid()},
    )


def required(data: dict[str, Any], name: str) -> Any:
    value = data.get(name)
    if value is None or value == "":
        raise SesError(BAD_REQUEST, f"{name} is required.")
    return value


def tags(items: Any, field: str = "EmailTags") -> dict[str, str]:
    """``[{"Name", "Value"}]`` message tags, checked as SES checks them."""
    out: dict[str, str] = {}
    for item in items or []:
        name, value = str(item.get("Name", "")), str(item.get("Value", ""))
        for text in (name, value):
            if not _TAG.fullmatch(text):
                raise SesError(
                    BAD_REQUEST,
                    f"Invalid {field} value '{text}': tag names and values may contain only"
                    " ASCII letters, numbers, underscores and dashes (at most 256).",
                )
        out[name] = value
    return out


fallback = APIRouter()


@fallback.api_route("/v2/email/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def unknown_operation(request: Request, path: str) -> Response:
    """Any other v2 path: the operation is not emulated (SES answers an unknown one so)."""
    authorize(request)
    raise SesError(UNKNOWN_OPERATION, f"Unknown operation: {request.method} /v2/email/{path}")
