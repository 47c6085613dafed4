"""Mailgun Routes API: ``/v3/routes`` (list with ``skip``/``limit``, create), ``/v3/routes/{id}``
(get, update, delete) and ``/v3/routes/match?address=`` (the route an address would take), with
the shapes of mailgun/documentation ``api-routes.rst`` and mailgun.js (``Routes.ts``).

Routes are account-wide (no domain in the path). Each is kept in the shared webhook store
(provider ``mailgun-route``; ``details`` holds priority, description, expression, actions and the
base URL the API was called on, which the ``store(notify=...)`` message URLs are built from).
Expressions and actions are checked on save (:mod:`.route_rules`); a bad one is a 400
[unverified wording].
"""

from __future__ import annotations

import secrets
from email.utils import formatdate
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from mailsandbox.emulators.mailgun import ROUTE as PROVIDER
from mailsandbox.emulators.mailgun.auth import base_url, check_key
from mailsandbox.emulators.mailgun.errors import bad_request, mg_json, not_found
from mailsandbox.emulators.mailgun.forms import Form, read_form
from mailsandbox.emulators.mailgun.route_rules import (
    Route,
    RouteError,
    evaluate,
    parse_action,
    parse_expression,
)
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import webhooks as store
from mailsandbox.storage.sql import Connection

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
router = APIRouter()


def route_json(endpoint: store.WebhookEndpoint) -> dict[str, Any]:
    d = endpoint.details
    return {
        "actions": list(d.get("actions", [])),
        "created_at": formatdate(endpoint.created, usegmt=True),
        "description": str(d.get("description", "")),
        "expression": str(d.get("expression", "")),
        "id": endpoint.id,
        "priority": int(d.get("priority", 0)),
    }


def routes_in_order(conn: Connection) -> list[store.WebhookEndpoint]:
    """Every route in evaluation order: priority (lower first), then creation."""
    found = store.list_endpoints(conn, PROVIDER)
    return sorted(found, key=lambda e: (int(e.details.get("priority", 0)), e.created))


def compiled(endpoint: store.WebhookEndpoint) -> Route:
    """A saved route ready to evaluate (it was checked when saved)."""
    d = endpoint.details
    return _compile(
        endpoint.id, str(d.get("expression", "")), tuple(map(str, d.get("actions", [])))
    )


@lru_cache(maxsize=1024)
def _compile(route_id: str, expression: str, actions: tuple[str, ...]) -> Route:
    """Parsed once per text (every message received is evaluated against every route)."""
    return Route(route_id, parse_expression(expression), tuple(map(parse_action, actions)))


def route_for_address(conn: Connection, address: str) -> store.WebhookEndpoint | None:
    """The first route ``address`` would take (judged on the recipient alone)."""
    endpoints = routes_in_order(conn)
    by_id = {e.id: e for e in endpoints}
    first = next(evaluate([compiled(e) for e in endpoints], address, lambda _: []), None)
    return by_id[first[0].id] if first else None


def _apply(endpoint: store.WebhookEndpoint, form: Form, request: Request) -> None:
    """Merge the form's fields into a route; 400 for anything Mailgun would refuse."""
    details = endpoint.details
    if "priority" in form.fields:
        try:
            details["priority"] = int(form.first("priority").strip() or 0)
        except ValueError:
            raise bad_request("priority must be an integer") from None
    if "description" in form.fields:
        details["description"] = form.first("description")
    if "expression" in form.fields:
        try:
            parse_expression(form.first("expression"))
        except RouteError as exc:
            raise bad_request(f"Invalid expression: {exc}") from None
        details["expression"] = form.first("expression").strip()
    actions = [a for a in form.all("action") if a.strip()]
    if actions:
        for action in actions:
            try:
                parse_action(action)
            except RouteError as exc:
                raise bad_request(f"Invalid action: {exc}") from None
        details["actions"] = [a.strip() for a in actions]
    details["base_url"] = base_url(request)


def _sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    check_key(request, sandbox)
    return sandbox


async def _existing(request: Request, route_id: str) -> tuple[Sandbox, store.WebhookEndpoint]:
    sandbox = _sandbox(request)
    endpoint = await sandbox.db.read(lambda conn: store.get(conn, route_id))
    if endpoint is None or endpoint.provider != PROVIDER:
        raise not_found("Route not found")
    return sandbox, endpoint


def _count(value: str | None, default: int, name: str) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise bad_request(f"{name} must be an integer") from None
    if number < 0:
        raise bad_request(f"{name} must be a non-negative integer")
    return number


@router.get("/v3/routes")
async def list_routes(request: Request) -> JSONResponse:
    sandbox = _sandbox(request)
    skip = _count(request.query_params.get("skip"), 0, "skip")
    limit = min(_count(request.query_params.get("limit"), DEFAULT_LIMIT, "limit"), MAX_LIMIT)
    found = await sandbox.db.read(routes_in_order)
    items = [route_json(e) for e in found[skip : skip + limit]]
    return mg_json({"total_count": len(found), "items": items})


@router.post("/v3/routes")
async def create_route(request: Request) -> JSONResponse:
    sandbox = _sandbox(request)
    form = await read_form(request)
    if not form.first("expression").strip():
        raise bad_request("'expression' parameter is missing")
    if not any(a.strip() for a in form.all("action")):
        raise bad_request("'action' parameter is missing")
    endpoint = store.WebhookEndpoint(provider=PROVIDER, url="", id=secrets.token_hex(12))
    endpoint.details = {"priority": 0, "description": ""}
    _apply(endpoint, form, request)
    saved = await sandbox.db.write(lambda conn: store.save(conn, endpoint))
    return mg_json({"message": "Route has been created", "route": route_json(saved)})


@router.get("/v3/routes/match")
async def match_route(request: Request) -> JSONResponse:
    """The first route (in evaluation order) whose recipient filters match ``address``
    (header filters cannot be judged without a message: such routes never match here)."""
    sandbox = _sandbox(request)
    address = request.query_params.get("address", "").strip()
    if not address:
        raise bad_request("'address' parameter is missing")
    found = await sandbox.db.read(lambda conn: route_for_address(conn, address))
    if found is None:
        raise not_found("Route not found")
    return mg_json({"route": route_json(found)})


@router.get("/v3/routes/{route_id}")
async def get_route(route_id: str, request: Request) -> JSONResponse:
    _, endpoint = await _existing(request, route_id)
    return mg_json({"route": route_json(endpoint)})


@router.put("/v3/routes/{route_id}")
async def update_route(route_id: str, request: Request) -> JSONResponse:
    sandbox, endpoint = await _existing(request, route_id)
    _apply(endpoint, await read_form(request), request)
    await sandbox.db.write(lambda conn: store.save(conn, endpoint))
    return mg_json({**route_json(endpoint), "message": "Route has been updated"})


@router.delete("/v3/routes/{route_id}")
async def delete_route(route_id: str, request: Request) -> JSONResponse:
    sandbox, endpoint = await _existing(request, route_id)
    await sandbox.db.write(lambda conn: store.delete(conn, endpoint.id))
    return mg_json({"id": endpoint.id, "message": "Route has been deleted"})
