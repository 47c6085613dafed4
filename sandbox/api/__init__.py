"""The REST API: Mailpit-compatible ``/api/v1`` message endpoints, ``/view``, plus our extensions.

``build_router()`` is the entry point the composition root includes. Each module owns one
concern and exposes ``router``; add yours to ``ROUTERS`` (one line) to extend the API.
``install_security(app, credentials)`` puts the auth/CORS/Origin guards in front of everything.
"""

from __future__ import annotations

from fastapi import APIRouter

from mailsandbox.api import (
    events,
    extract,
    health,
    inboxes,
    info,
    live,
    mailhog,
    message,
    messages,
    metrics,
    release,
    rules,
    send,
    tags,
    transfer,
    view,
    websocket,
)
from mailsandbox.api.security import install as install_security

ROUTERS = [
    health.router,
    messages.router,
    message.router,
    release.router,
    tags.router,
    send.router,
    info.router,
    live.router,
    view.router,
    mailhog.router,
    extract.router,
    inboxes.router,
    events.router,
    rules.router,
    websocket.router,
    metrics.router,
    transfer.router,
]


def build_router() -> APIRouter:
    router = APIRouter()
    for module_router in ROUTERS:
        router.include_router(module_router)
    return router


__all__ = ["build_router", "install_security"]
