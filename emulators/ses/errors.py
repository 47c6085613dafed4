"""SES and SNS errors in the shape each protocol answers them, with the codes the SDKs map to
exceptions.

One failure often has two names: SES v2 (REST JSON) says ``NotFoundException`` where SES v1
(Query) says ``TemplateDoesNotExist``. An :class:`ErrorKind` holds both (codes and HTTP
statuses from botocore's service models), and the error renders the one of the request's
protocol (through the emulators' shared handler, ``common.errors``): v2 as
``x-amzn-ErrorType`` plus ``{"message": ...}`` (what botocore and the JS SDK v3 read), Query as
``<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from mailsandbox.emulators.common.errors import EmulatorError
from mailsandbox.emulators.ses import aws

PROTOCOL = "mailsandbox.aws.protocol"  # request scope: "json", or the Query namespace
SES_NS = "http://ses.amazonaws.com/doc/2010-12-01/"
SNS_NS = "http://sns.amazonaws.com/doc/2010-03-31/"


@dataclass(frozen=True)
class ErrorKind:
    json_code: str
    json_status: int
    query_code: str
    query_status: int = 400


BAD_REQUEST = ErrorKind("BadRequestException", 400, "InvalidParameterValue")
MESSAGE_REJECTED = ErrorKind("MessageRejected", 400, "MessageRejected")
TEMPLATE_MISSING = ErrorKind("NotFoundException", 404, "TemplateDoesNotExist")
CONFIG_SET_MISSING = ErrorKind("NotFoundException", 404, "ConfigurationSetDoesNotExist")
DESTINATION_MISSING = ErrorKind("NotFoundException", 404, "EventDestinationDoesNotExist")
NOT_FOUND = ErrorKind("NotFoundException", 404, "NotFound", 404)
TEMPLATE_EXISTS = ErrorKind("AlreadyExistsException", 400, "AlreadyExists")
CONFIG_SET_EXISTS = ErrorKind("AlreadyExistsException", 400, "ConfigurationSetAlreadyExists")
DESTINATION_EXISTS = ErrorKind("AlreadyExistsException", 400, "EventDestinationAlreadyExists")
MISSING_ATTRIBUTE = ErrorKind("BadRequestException", 400, "MissingRenderingAttribute")
INVALID_TEMPLATE = ErrorKind("BadRequestException", 400, "InvalidTemplate")
INVALID_RENDERING = ErrorKind("BadRequestException", 400, "InvalidRenderingParameter")
INVALID_SNS_DESTINATION = ErrorKind("BadRequestException", 400, "InvalidSNSDestination")
ACCOUNT_PAUSED = ErrorKind("SendingPausedException", 400, "AccountSendingPausedException")
CONFIG_SET_PAUSED = ErrorKind(
    "SendingPausedException", 400, "ConfigurationSetSendingPausedException"
)
MISSING_TOKEN = ErrorKind(
    "MissingAuthenticationTokenException", 403, "MissingAuthenticationToken", 403
)
INVALID_TOKEN = ErrorKind("UnrecognizedClientException", 403, "InvalidClientTokenId", 403)
UNKNOWN_OPERATION = ErrorKind("UnknownOperationException", 404, "InvalidAction")
# SNS (Query only)
SNS_INVALID = ErrorKind("InvalidParameterException", 400, "InvalidParameter")
SNS_NOT_FOUND = ErrorKind("NotFoundException", 404, "NotFound", 404)


class SesError(EmulatorError):
    """An SES or SNS error; rendered in the protocol of the request that raised it."""

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message

    def response(self, request: Request) -> Response:
        return render(request, self)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(request: Request, error: SesError) -> Response:
    protocol = request.scope.get(PROTOCOL, "json" if request.url.path.startswith("/v2/") else "")
    kind = error.kind
    request_id = aws.new_uuid()
    if protocol == "json":
        return JSONResponse(
            {"message": error.message},
            status_code=kind.json_status,
            headers={"x-amzn-ErrorType": kind.json_code, "x-amzn-RequestId": request_id},
        )
    namespace = protocol or SES_NS
    fault = "Sender" if kind.query_status < 500 else "Receiver"
    body = (
        f'<ErrorResponse xmlns="{namespace}">\n  <Error>\n    <Type>{fault}</Type>\n'
        f"    <Code>{kind.query_code}</Code>\n    <Message>{_escape(error.message)}</Message>\n"
        f"  </Error>\n  <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n"
    )
    return Response(
        body,
        status_code=kind.query_status,
        media_type="text/xml",
        headers={"x-amzn-RequestId": request_id},
    )


class SesErrors:
    """The SES family's error shape (``mailsandbox.api.surface``): unknown paths and methods
    answer as AWS does for an unknown operation, in the request's protocol."""

    def not_found(self, request: Request) -> Response:
        return render(request, SesError(UNKNOWN_OPERATION, "The requested operation is unknown."))

    def error(self, request: Request, status: int, message: str) -> Response:
        if status in (404, 405):
            return self.not_found(request)
        kind = ErrorKind("BadRequestException", status, "InvalidParameterValue", status)
        return render(request, SesError(kind, message))


ERRORS = SesErrors()
