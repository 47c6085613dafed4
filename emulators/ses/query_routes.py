"""The AWS Query endpoint on ``/`` and the SNS URLs, next to the UI's own ``/``.

SES v1 and SNS are both ``POST /`` with a form body (``Action=...``): the SigV4 credential
scope of the ``Authorization`` header says which service is meant (esp-contracts.md, "Routing
both ESPs on one HTTP port"). The SubscribeURL and UnsubscribeURL of SNS messages are unsigned
``GET /sns?Action=ConfirmSubscription|Unsubscribe&...`` links, answered like SNS answers them
(``GET /`` stays the UI's inbox). The signing certificate is served at its own path.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from starlette.routing import Route

from mailsandbox.emulators.hot_routes import direct
from mailsandbox.emulators.ses import aws, query, sns_api, v1_api
from mailsandbox.emulators.ses.errors import (
    ERRORS,
    MISSING_TOKEN,
    PROTOCOL,
    SES_NS,
    SNS_NS,
    UNKNOWN_OPERATION,
    SesError,
)
from mailsandbox.emulators.ses.query_context import QueryContext
from mailsandbox.emulators.ses.sigv4 import Caller, authorize, parse
from mailsandbox.emulators.ses.sns_signing import CERT_PREFIX, SnsSigner

router = APIRouter()
LINK_ACTIONS = ("ConfirmSubscription", "Unsubscribe")
SERVICES = {"ses": (v1_api.ACTIONS, SES_NS), "sns": (sns_api.ACTIONS, SNS_NS)}


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def _run(request: Request, caller: Caller, params: dict[str, Any]) -> Response:
    actions, namespace = SERVICES.get(caller.service, SERVICES["ses"])
    request.scope[PROTOCOL] = namespace
    action = str(params.get("Action", ""))
    handler = actions.get(action)
    if handler is None:
        raise SesError(UNKNOWN_OPERATION, f"The action {action} is not valid for this web service.")
    ctx = QueryContext(request.app.state.sandbox, caller, base_url(request), params)
    result = await handler(ctx)
    return query.response(action, result, namespace)


@router.post("/")
@direct  # the hot path of SES v1 (SendRawEmail is what django-ses calls)
async def query_endpoint(request: Request) -> Response:
    params = query.nest(query.parse_form(await request.body()))
    signed = parse(request.headers.get("authorization"))
    if signed is None:  # say it in the namespace of the service the action belongs to
        sns = str(params.get("Action", "")) in sns_api.ACTIONS
        request.scope[PROTOCOL] = SNS_NS if sns else SES_NS
        raise SesError(MISSING_TOKEN, "Request is missing Authentication Token")
    request.scope[PROTOCOL] = SNS_NS if signed.service == "sns" else SES_NS
    return await _run(request, authorize(request), params)


async def link(request: Request) -> Response:
    """A SubscribeURL or UnsubscribeURL being followed (anyone holding it may: as in SNS)."""
    params = dict(request.query_params)
    if params.get("Action") not in LINK_ACTIONS:
        raise SesError(UNKNOWN_OPERATION, "The action is not valid for this web service.")
    region = aws.arn_region(params.get("TopicArn") or params.get("SubscriptionArn") or "")
    return await _run(request, Caller("", region, "sns"), params)


def install(app: FastAPI, signer: SnsSigner) -> None:
    """The SubscribeURL/UnsubscribeURL route and the certificate's route."""

    async def certificate(request: Request) -> Response:
        if request.url.path != signer.cert_path:  # the name of another (older) certificate
            return ERRORS.not_found(request)
        return Response(signer.certificate_pem, media_type="application/x-x509-ca-cert")

    app.router.routes.append(Route(aws.LINK_PATH, link, methods=["GET", "HEAD"]))
    cert_route = CERT_PREFIX + "{name}"
    app.router.routes.append(Route(cert_route, certificate, methods=["GET", "HEAD"]))
