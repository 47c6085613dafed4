"""Who signed a request: the access key id, region and service of its SigV4 credential scope.

Every AWS SDK signs with ``Authorization: AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/
ses/aws4_request, SignedHeaders=..., Signature=...``. The sandbox knows no secret keys, so it
never checks the signature; it reads the scope to route Query requests (service ``ses`` or
``sns``; older SDKs signed SES v1 as ``email``) and, when ``--ses-access-key`` lists keys,
refuses any other key the way AWS does: ``InvalidClientTokenId`` from the Query services,
``UnrecognizedClientException`` from the JSON one (django-ses#283 shows both). A request with
no signature gets ``MissingAuthenticationToken``: that is also what keeps a web page from
posting to these paths (a cross-origin request cannot set ``Authorization`` without a
preflight the sandbox never grants).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from mailsandbox.emulators.ses import aws
from mailsandbox.emulators.ses.errors import (
    INVALID_TOKEN,
    MISSING_TOKEN,
    SesError,
)
from mailsandbox.runtime import Sandbox

SCHEME = "AWS4-HMAC-SHA256"


@dataclass(frozen=True)
class Caller:
    access_key: str
    region: str
    service: str  # ses | sns (``email`` is read as ses)


def parse(header: str | None) -> Caller | None:
    """The credential scope of an ``Authorization`` header, or None if it is not SigV4."""
    if not header or not header.startswith(SCHEME):
        return None
    start = header.find("Credential=")
    if start < 0:
        return None
    scope = header[start + 11 :].split(",", 1)[0].strip().split("/")
    if len(scope) < 5 or not scope[0]:
        return None
    service = "ses" if scope[3] == "email" else scope[3]
    return Caller(scope[0], scope[2] or aws.DEFAULT_REGION, service)


def authorize(request: Request) -> Caller:
    """The caller of a signed request, or SesError (MissingAuthenticationToken, or an unknown
    key when ``--ses-access-key`` is set)."""
    caller = parse(request.headers.get("authorization"))
    if caller is None:
        raise SesError(MISSING_TOKEN, "Request is missing Authentication Token")
    sandbox: Sandbox = request.app.state.sandbox
    allowed = sandbox.settings.ses_access_key
    if allowed and caller.access_key not in allowed:
        raise SesError(INVALID_TOKEN, "The security token included in the request is invalid.")
    return caller


def enforced_key(request: Request) -> bool:
    """Whether the request is signed with an access key ``--ses-access-key`` enforces (what
    ``--ui-auth`` asks of SES and SNS management calls; see ``mailsandbox.api.surface``)."""
    caller = parse(request.headers.get("authorization"))
    allowed = request.app.state.sandbox.settings.ses_access_key
    return caller is not None and bool(allowed) and caller.access_key in allowed
