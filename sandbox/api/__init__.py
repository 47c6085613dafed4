"""The REST API: Mailpit-compatible ``/api/v1`` message endpoints, ``/view``, plus our extensions.

``build_router()`` is the entry point the composition root includes. Each module owns one
concern and exposes ``router``; add yours to ``ROUTERS`` (one line) to extend the API.
``install_http(app, settings)`` sets up the route table (``families.py``, ``surface.py``), the
error shapes and the security guards in front of everything; add-ons add their families with
``surface_of(app).add(...)``.
"""

from __future__ import annotations

from fastapi import APIRouter

from mailsandbox.api import (
    checks,
    docs,
    esp,
    events,
    extract,
    health,
    inbound,
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
from mailsandbox.api.families import install as install_http
from mailsandbox.api.families import surface_of

ROUTERS = [
    health.router,
    messages.router,
    message.router,
    checks.router,
    esp.router,
    release.router,
    tags.router,
    send.router,
    inbound.router,
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
    docs.router,
]


def build_router() -> APIRouter:
    router = APIRouter()
    for module_router in ROUTERS:
        router.include_router(module_router)
    return router


__all__ = ["build_router", "install_http", "surface_of"]
