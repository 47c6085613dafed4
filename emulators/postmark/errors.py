"""Postmark's error answers: ``{"ErrorCode": <n>, "Message": "..."}`` with the HTTP status.

The codes and their meaning are Postmark's list (postmarkapp.com/developer/api/overview,
"Error codes"); clients read them from the JSON whatever the status: postmarker raises
``ClientError`` with ``error_code``, postmark.js maps 401 to ``InvalidAPIKeyError`` and 422 to
``ApiInputError`` subclasses by code, and django-anymail reads codes 300 and 406 of a 422 to
tell invalid and inactive recipients apart. Send-time validation is 422; bad or missing tokens
401; a resource that does not exist 404 (``ResourceNotFound``, code 12, for an unknown path).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from mailsandbox.emulators.common.errors import EmulatorError

BAD_TOKEN = 10
RESOURCE_NOT_FOUND = 12
INVALID_EMAIL = 300
SENDER_NOT_FOUND = 400
INVALID_JSON = 402
INVALID_FIELDS = 403
INACTIVE_RECIPIENT = 406
JSON_REQUIRED = 409
TOO_MANY_BATCH = 410
FORBIDDEN_ATTACHMENT = 411
INVALID_WEBHOOK_URL = 606
MESSAGES_QUERY = 700
MESSAGE_NOT_FOUND = 701
BOUNCES_QUERY = 1000
BOUNCE_NOT_FOUND = 1001
CANNOT_ACTIVATE = 1003
TEMPLATE_QUERY = 1100
TEMPLATE_NOT_FOUND = 1101
NO_TEMPLATE_DATA = 1109
TEMPLATE_FIELD_MISSING = 1120
INVALID_TEMPLATE_FIELD = 1122
FIELD_NOT_ALLOWED = 1123
DEPENDENT_TEMPLATES = 1130
LAYOUT_PLACEHOLDER = 1131
INVALID_STREAM_TYPE = 1221
INVALID_STREAM_ID = 1222
STREAM_NOT_FOUND = 1226
DUPLICATE_STREAM = 1230
STREAM_NOT_ON_SERVER = 1235

NO_TOKEN_MESSAGE = (
    "No Account or Server API tokens were supplied in the HTTP headers. Please add a header for"
    " either X-Postmark-Server-Token or X-Postmark-Account-Token."
)
BAD_TOKEN_MESSAGE = (
    "The Server Token you provided in the X-Postmark-Server-Token request header was invalid."
    " Please verify that you are using a valid token."
)


class PostmarkError(EmulatorError):
    """An error answer in Postmark's shape."""

    def __init__(self, code: int, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def body(self) -> dict[str, object]:
        return {"ErrorCode": self.code, "Message": self.message}

    def response(self, request: Request) -> Response:
        return JSONResponse(self.body(), status_code=self.status)


def invalid(message: str) -> PostmarkError:
    """A 422 ``Invalid email request`` (code 300) with Postmark's wording of what is wrong."""
    return PostmarkError(INVALID_EMAIL, message)


def not_found(code: int, message: str) -> PostmarkError:
    return PostmarkError(code, message, 404)


class PostmarkErrors:
    """Postmark's shape on the HTTP surface (``mailsandbox.api.surface``): an unknown path or
    method is ``ResourceNotFound`` (code 12); a refused credential (``--ui-auth`` asks
    management calls for an enforced token) is code 10, as a bad token is."""

    def not_found(self, request: Request) -> Response:
        message = "Resource not found. The item you are trying to access was not found."
        return not_found(RESOURCE_NOT_FOUND, message).response(request)

    def error(self, request: Request, status: int, message: str) -> Response:
        if status == 405:
            message = f"The method {request.method} is not allowed here."
        code = {401: BAD_TOKEN, 404: RESOURCE_NOT_FOUND, 405: RESOURCE_NOT_FOUND}.get(status, 0)
        return PostmarkError(code, message, status).response(request)


ERRORS = PostmarkErrors()
