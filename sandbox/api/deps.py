"""Dependencies shared by API routes: the running Sandbox, and JSON the way Mailpit writes it."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, PlainTextResponse

from sandbox.runtime import Sandbox


def get_sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


class GoJSONResponse(JSONResponse):
    """Compact JSON plus a trailing newline, as Go's ``json.Encoder`` writes it."""

    def render(self, content: Any) -> bytes:
        return (json.dumps(content, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def ok() -> PlainTextResponse:
    return PlainTextResponse("ok")


def not_found(text: str = "404 page not found") -> PlainTextResponse:
    return PlainTextResponse(text, status_code=404)


def bad_request(text: str) -> PlainTextResponse:
    return PlainTextResponse(text, status_code=400)
