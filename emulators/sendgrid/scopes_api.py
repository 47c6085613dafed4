"""``GET /v3/scopes``: what the API key may do (OpenAPI ``tsg_scopes_v3``): ``{"scopes": [...]}``.

Every key the sandbox accepts may call every API it emulates, so the list is the scopes of those
APIs, named as SendGrid names them (the scope lists of ``tsg_api_keys_v3``).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from mailsandbox.emulators.sendgrid.auth import authorize

router = APIRouter(dependencies=[Depends(authorize)])
_CRUD = ("create", "delete", "read", "update")
SCOPES = (
    "mail.send",
    *(f"mail.batch.{verb}" for verb in _CRUD),
    *(f"user.scheduled_sends.{verb}" for verb in _CRUD),
    "messages.read",
    *(f"templates.{verb}" for verb in _CRUD),
    *(f"templates.versions.{verb}" for verb in _CRUD),
    *(f"templates.versions.activate.{verb}" for verb in _CRUD),
    *(f"asm.groups.{verb}" for verb in _CRUD),
    *(f"asm.groups.suppressions.{verb}" for verb in _CRUD),
    *(f"asm.suppressions.global.{verb}" for verb in _CRUD),
    *(f"suppression.{verb}" for verb in _CRUD),
    *(
        f"suppression.{name}.{verb}"
        for name in ("blocks", "bounces", "invalid_emails", "spam_reports", "unsubscribes")
        for verb in _CRUD
    ),
    "di.bounce_block_classification.read",
    *(f"user.webhooks.event.settings.{verb}" for verb in _CRUD),
    *(f"user.webhooks.event.test.{verb}" for verb in _CRUD),
    "scopes.read",
)


@router.get("/v3/scopes")
async def list_scopes() -> JSONResponse:
    return JSONResponse({"scopes": list(SCOPES)})
