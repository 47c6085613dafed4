"""Mailgun's error answers: JSON ``{"message": ...}`` for 400/404/413, plain ``Forbidden`` for 401.

Routes raise :class:`MailgunError`; the emulators' shared handler (``common.errors``) renders
it.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from mailsandbox import safejson
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


class MailgunErrors:
    """Mailgun's shape on the HTTP surface: ``{"message": ...}`` JSON for errors, and for a path
    it does not know the plain Go 404 api.mailgun.net answers (its docs: "If a JSON response is
    missing for a 404 - that's usually a sign that there was [...] a non-existing endpoint";
    observed body ``404 page not found`` and a newline: https://github.com/helium/console/issues/1230)."""

    def not_found(self, request: Request) -> Response:
        return PlainTextResponse("404 page not found\n", status_code=404)

    def error(self, request: Request, status: int, message: str) -> Response:
        return mg_json({"message": message}, status)


ERRORS = MailgunErrors()


def not_json(what: str) -> MailgunError:
    """The 400 for a form field that must be JSON (``'recipient-variables' parameter is not a
    valid JSON``, in the error table of mailgun/documentation ``api-sending.rst``)."""
    return bad_request(f"'{what}' parameter is not a valid JSON")


def parse_json(text: str | bytes, what: str) -> Any:
    """Decode a JSON form field or body (see :mod:`mailsandbox.safejson`), or fail with
    Mailgun's 400."""
    try:
        return safejson.loads(text)
    except safejson.JSONInputError as exc:
        raise not_json(what) from exc
