"""Errors the framework raises (no such path, wrong method, a parameter of the wrong type),
answered in the shape of the API family the path belongs to, never FastAPI's ``{"detail": ...}``.

Each :class:`~.surface.Family` brings its :class:`~.surface.ErrorShape`; this module installs
the handlers that use it and defines the shapes of the core's own families.
"""

from __future__ import annotations

import http

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse, Response

from mailsandbox.api.deps import error
from mailsandbox.api.surface import PLAIN, family_of

NOT_FOUND = "404 page not found"  # Go's text, as Mailpit answers an unknown path


class MailpitErrors:
    """Our REST API's errors: ``{"Error": "..."}`` with the status, as its known routes give."""

    def not_found(self, request: Request) -> Response:
        return error(404, NOT_FOUND)

    def error(self, request: Request, status: int, message: str) -> Response:
        return error(status, message)


MAILPIT = MailpitErrors()


def unclaimed() -> Response:
    """The answer for a path no family owns."""
    return PlainTextResponse(f"{NOT_FOUND}\n", status_code=404)


def phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for item in exc.errors():
        where = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
        parts.append(f"{where}: {item.get('msg', 'invalid')}" if where else item.get("msg", ""))
    return "; ".join(parts) or "invalid request"


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    shape = family_of(request.scope)
    errors = shape.errors if shape is not None else PLAIN
    if exc.status_code == 404:
        response = errors.not_found(request)
    else:
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail else None
        response = errors.error(request, exc.status_code, detail or phrase(exc.status_code))
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    shape = family_of(request.scope)
    errors = shape.errors if shape is not None else PLAIN
    return errors.error(request, 400, _validation_message(exc))


def install(app: FastAPI) -> None:
    """Answer 404/405/4xx raised by the router and 400 for invalid parameters in each
    family's own shape."""
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
