"""Mailgun's error answers: JSON ``{"message": ...}`` for 400/404/413, plain ``Forbidden`` for 401.

Routes raise :class:`MailgunError`; the emulators' shared handler (``common.errors``) renders
it.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from mailsandbox.emulators.common.errors import EmulatorError


class MailgunError(EmulatorError):
    """An error answer with Mailgun's status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def response(self, request: Request) -> Response:
        if self.status == 401:
            return PlainTextResponse(
                "Forbidden", status_code=401, headers={"WWW-Authenticate": 'Basic realm="MG API"'}
            )
        return mg_json({"message": self.message}, self.status)


def bad_request(message: str) -> MailgunError:
    return MailgunError(400, message)


def not_found(message: str) -> MailgunError:
    return MailgunError(404, message)


def mg_json(content: Any, status: int = 200) -> JSONResponse:
    """Mailgun-style JSON (pretty enough, UTF-8)."""
    return JSONResponse(content, status_code=status)


def parse_json(text: str, what: str) -> Any:
    """Decode a JSON form field or fail with Mailgun's 400."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise bad_request(f"{what} parameter is not a valid JSON") from exc
