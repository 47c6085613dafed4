"""Rules API (interface 3): list, add and delete the live outcome and SMTP-fault rules."""

from __future__ import annotations

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
