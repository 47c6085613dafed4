"""Liveness and readiness probes (no auth, empty bodies, as Mailpit)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from fastapi.responses import PlainTextResponse

from mailsandbox.api.deps import get_sandbox
from mailsandbox.runtime import Sandbox

router = APIRouter(tags=["health"])


@router.get("/livez")
async def livez() -> Response:
    return Response(status_code=200)


@router.get("/readyz")
async def readyz(sandbox: Sandbox = Depends(get_sandbox)) -> Response:
    if sandbox.ready and sandbox.listeners and sandbox.db.ping():
        return Response(status_code=200)
    return PlainTextResponse("Service Unavailable\n", status_code=503)
