"""The error answers of every emulator go through one exception type and one handler.

Each provider raises its own subclass of :class:`EmulatorError` (SendGrid's ``{"errors": [...]}``,
Mailgun's ``{"message"}`` or plain ``Forbidden``, SES's JSON or Query XML, Postmark's
``{"ErrorCode", "Message"}``, Resend's ``{"statusCode", "name", "message"}``); the subclass
renders itself (:meth:`EmulatorError.response`), so the app needs one handler for all of them
and adding a provider adds no handler. Only these exceptions are handled here: nothing else in
the app changes behaviour.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response


class EmulatorError(Exception):
    """An error answer in some provider's shape."""

    def response(self, request: Request) -> Response:
        """The HTTP answer for this error (each provider's subclass says how it looks)."""
        raise NotImplementedError


async def _handle(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, EmulatorError)
    return exc.response(request)


def install_handler(app: FastAPI) -> None:
    """Answer every :class:`EmulatorError` in its provider's shape (called by each emulator's
    ``install()``; installing it again changes nothing)."""
    app.add_exception_handler(EmulatorError, _handle)
