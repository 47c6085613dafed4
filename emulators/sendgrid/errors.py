"""SendGrid's error envelope: ``{"errors": [{"message", "field", "help"}]}`` with the real status.

Every SendGrid route raises :class:`SendGridError`; the emulators' shared handler
(``common.errors``) turns it into the JSON body the SDKs parse (python-http-client's
``BadRequestsError.to_dict`` and node's ``ResponseError`` read ``errors``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from mailsandbox.emulators.common.errors import EmulatorError

HELP_ROOT = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"


@dataclass
class ErrorItem:
    message: str
    field: str | None = None
    help: str | dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"message": self.message, "field": self.field, "help": self.help}


class SendGridError(EmulatorError):
    """An HTTP error in SendGrid's shape."""

    def __init__(
        self,
        status: int,
        errors: list[ErrorItem],
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(errors[0].message if errors else str(status))
        self.status = status
        self.errors = errors
        self.headers = dict(headers or {})

    @classmethod
    def one(
        cls,
        status: int,
        message: str,
        field: str | None = None,
        help: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> SendGridError:
        return cls(status, [ErrorItem(message, field, help)], headers)

    def response(self, request: Request) -> Response:
        return JSONResponse(error_body(self.errors), status_code=self.status, headers=self.headers)


def error_body(errors: list[ErrorItem]) -> dict[str, Any]:
    return {"errors": [item.as_dict() for item in errors]}


def bad_request() -> SendGridError:
    """What SendGrid answers to a body that is not JSON (or not a JSON object)."""
    return SendGridError.one(400, "Bad Request")


def not_found(field: str | None = None) -> SendGridError:
    return SendGridError.one(404, "resource not found", field)


class SendGridErrors:
    """SendGrid's shape on the HTTP surface: its unknown-path 404 and every other error."""

    def not_found(self, request: Request) -> Response:
        # What api.sendgrid.com answers for a path it does not know (no "help" key there):
        # https://github.com/sendgrid/docs/issues/1569
        return JSONResponse({"errors": [{"field": None, "message": "resource not found"}]}, 404)

    def error(self, request: Request, status: int, message: str) -> Response:
        if status == 405:
            message = "method not allowed"  # SendGrid's wording
        return JSONResponse(error_body([ErrorItem(message)]), status_code=status)


ERRORS = SendGridErrors()
