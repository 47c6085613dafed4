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


class ResendErrors:
    """Resend's shape on the HTTP surface (``mailsandbox.api.surface``): an unknown path is
    ``not_found``, another method ``method_not_allowed``; other refusals carry the status's
    usual name (401 ``missing_api_key``: ``--ui-auth`` asks management calls for an enforced
    key)."""

    NAMES = {401: "missing_api_key", 403: "invalid_access", 405: "method_not_allowed"}

    def not_found(self, request: Request) -> Response:
        return not_found("The requested endpoint does not exist.").response(request)

    def error(self, request: Request, status: int, message: str) -> Response:
        if status == 405:
            message = "Method is not allowed for the requested path."
        name = self.NAMES.get(status, "validation_error" if status < 500 else "application_error")
        return ResendError(status, name, message).response(request)


ERRORS = ResendErrors()
