"""The REST API at ``/api/v1``: Mailpit-compatible message endpoints plus our extensions."""

from __future__ import annotations

from fastapi import APIRouter

from sandbox.api import health, messages


def build_router() -> APIRouter:
    router = APIRouter()
    router.include_router(health.router)
    router.include_router(messages.router)
    return router
