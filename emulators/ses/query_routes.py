"""The AWS Query endpoint on ``/`` and the SNS URLs, next to the UI's own ``/``.

SES v1 and SNS are both ``POST /`` with a form body (``Action=...``): the SigV4 credential
scope of the ``Authorization`` header says which service is meant (esp-contracts.md, "Routing
both ESPs on one HTTP port"). The SubscribeURL and UnsubscribeURL of SNS messages are unsigned
``GET /?Action=ConfirmSubscription|Unsubscribe&...`` links, answered like SNS answers them; any
other ``GET /`` is the UI's inbox. The signing certificate is served at its own path.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from mailsandbox.emulators.hot_routes import direct
from mailsandbox.emulators.ses import aws, query, sns_api, v1_api
from mailsandbox.emulators.ses.errors import (
    MISSING_TOKEN,
    PROTOCOL,
    SES_NS,
    SNS_NS,
    UNKNOWN_OPERATION,
    SesError,
)
from mailsandbox.emulators.ses.query_context import QueryContext
from mailsandbox.emulators.ses.sigv4 import Caller, authorize, parse
from mailsandbox.emulators.ses.sns_signing import SnsSigner

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


class LinkRoute(Route):
    """``GET /?Action=ConfirmSubscription|Unsubscribe...`` only; any other GET / is the UI's."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return Match.NONE, {}
        text = scope.get("query_string", b"").decode("latin-1")
        if not any(f"Action={name}" in text for name in LINK_ACTIONS):
            return Match.NONE, {}
        return super().matches(scope)


async def link(request: Request) -> Response:
    """A SubscribeURL or UnsubscribeURL being followed (anyone holding it may: as in SNS)."""
    params = dict(request.query_params)
    if params.get("Action") not in LINK_ACTIONS:
        raise SesError(UNKNOWN_OPERATION, "The action is not valid for this web service.")
    region = aws.arn_region(params.get("TopicArn") or params.get("SubscriptionArn") or "")
    return await _run(request, Caller("", region, "sns"), params)


def install(app: FastAPI, signer: SnsSigner) -> None:
    """The link route and the certificate's route, after the core API's routes and ahead of
    the UI's (installed after the emulators), whose ``GET /`` is the inbox."""

    async def certificate(request: Request) -> Response:
        return Response(signer.certificate_pem, media_type="application/x-x509-ca-cert")

    app.router.routes.append(LinkRoute("/", link, methods=["GET", "HEAD"]))
    app.router.routes.append(Route(signer.cert_path, certificate, methods=["GET", "HEAD"]))
