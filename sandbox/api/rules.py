"""Rules API (interface 3): list, add, change (on/off, order) and delete the live outcome and
SMTP-fault rules. ``GET`` lists them in the order they are tried."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from mailsandbox.api.deps import (
    BodyError,
    GoJSONResponse,
    bad_request,
    error,
    get_sandbox,
    json_body,
)
from mailsandbox.events.access import engine_of
from mailsandbox.events.rules import RuleError, parse_rule
from mailsandbox.runtime import Sandbox

router = APIRouter(prefix="/api/v1", tags=["rules"])


@router.get("/rules")
async def list_rules(sandbox: Sandbox = Depends(get_sandbox)) -> Response:
    rules = engine_of(sandbox).rules.all()
    return GoJSONResponse({"rules": [r.to_json() for r in rules]})


@router.post("/rules")
async def add_rule(request: Request, sandbox: Sandbox = Depends(get_sandbox)) -> Response:
    try:
        rule = parse_rule(await json_body(request))
    except (BodyError, RuleError) as exc:
        return bad_request(str(exc))
    await engine_of(sandbox).add_rule(rule)
    return GoJSONResponse(rule.to_json())


@router.delete("/rules/{rule_id}")
async def delete_rule(rule_id: str, sandbox: Sandbox = Depends(get_sandbox)) -> Response:
    if not await engine_of(sandbox).remove_rule(rule_id):
        return error(404, "Rule not found")
    return GoJSONResponse({"ID": rule_id, "Deleted": True})


def _patch(body: dict[str, Any] | None) -> tuple[bool | None, int | None]:
    """``{"enabled": bool, "position": int}`` (both optional) from a PATCH body."""
    enabled, position = (body or {}).get("enabled"), (body or {}).get("position")
    if enabled is not None and not isinstance(enabled, bool):
        raise BodyError("enabled must be true or false")
    if position is not None and (
        isinstance(position, bool) or not isinstance(position, int) or position < 0
    ):
        raise BodyError("position must be a whole number, 0 or more")
    if enabled is None and position is None:
        raise BodyError("nothing to change: give enabled and/or position")
    return enabled, position


@router.patch("/rules/{rule_id}")
async def change_rule(
    rule_id: str, request: Request, sandbox: Sandbox = Depends(get_sandbox)
) -> Response:
    """Switch a rule on or off and/or move it to ``position`` (0-based, in ``GET`` order)."""
    try:
        enabled, position = _patch(await json_body(request))
    except BodyError as exc:
        return bad_request(str(exc))
    engine = engine_of(sandbox)
    if enabled is not None:
        await engine.set_rule_enabled(rule_id, enabled)
    if position is not None:
        await engine.move_rule(rule_id, position)
    rule = next((r for r in engine.rules.all() if r.id == rule_id), None)
    if rule is None:
        return error(404, "Rule not found")
    return GoJSONResponse(rule.to_json())
