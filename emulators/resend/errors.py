"""Resend's error answers: ``{"statusCode": <status>, "name": "<type>", "message": "..."}``.

The types and their statuses are Resend's list (resend.com/docs/api-reference/errors);
the resend Python SDK raises an exception class chosen by status and ``name`` (400/422
``validation_error``, 422 ``missing_required_field``, 401 ``missing_api_key``, 403
``invalid_api_key``...), the Node SDK hands the object back as ``error``.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from mailsandbox.emulators.common.errors import EmulatorError


class ResendError(EmulatorError):
    """An error answer in Resend's shape."""

    def __init__(self, status: int, name: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.name = name
        self.message = message

    def body(self) -> dict[str, object]:
        return {"statusCode": self.status, "name": self.name, "message": self.message}

    def response(self, request: Request) -> Response:
        return JSONResponse(self.body(), status_code=self.status)


def validation(message: str, status: int = 422) -> ResendError:
    return ResendError(status, "validation_error", message)


def missing(field: str) -> ResendError:
    return ResendError(422, "missing_required_field", f"Missing `{field}` field.")


def not_found(message: str) -> ResendError:
    return ResendError(404, "not_found", message)


async def unknown_path(request: Request, known: bool) -> Response:
    """The answer for a Resend path no route serves (or serves with other methods)."""
    if known:
        error = ResendError(
            405, "method_not_allowed", "Method is not allowed for the requested path."
        )
    else:
        error = not_found("The requested endpoint does not exist.")
    return error.response(request)
