"""Inboxes: ``GET /api/v1/inboxes`` (every inbox that holds mail, with its message and unread
counts, sorted by name) and the rules that choose them, ``/api/v1/inbox-rules``.

An inbox is named by an ``X-Sandbox-Inbox`` header, else the SMTP AUTH user or the ESP API key,
else the first inbox rule that matches (see :mod:`mailsandbox.inbox_rules`), else ``default``;
it exists while it holds messages. Rules from ``--inbox-rule`` are listed first (``Origin``
``flag``, no ``ID``, cannot be deleted here); the API's and the UI's follow, in the order added.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from mailsandbox.api.deps import (
    BodyError,
    GoJSONResponse,
    bad_request,
    get_sandbox,
    json_body,
    not_found,
    ok,
    string_field,
)
from mailsandbox.api.schemas import go_time
from mailsandbox.api.scoping import visible_inboxes
from mailsandbox.inbox_rules import InboxRule, InboxRuleError
from mailsandbox.logins import Visible
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import inbox_rules as store
from mailsandbox.storage.messages import visible_sql
from mailsandbox.storage.sql import Connection

router = APIRouter(prefix="/api/v1", tags=["testing"])

_COUNTS = """
SELECT inbox, COUNT(*), COUNT(*) FILTER (WHERE read = 0), MAX(created)
FROM messages WHERE {where} GROUP BY inbox ORDER BY inbox
"""


def inbox_counts(conn: Connection, visible: Visible = None) -> list[dict[str, Any]]:
    where, args = visible_sql(visible)
    return [
        {"Name": name, "Messages": int(total), "Unread": int(unread), "Latest": go_time(latest)}
        for name, total, unread, latest in conn.execute(_COUNTS.format(where=where), args)
    ]


@router.get("/inboxes")
async def list_inboxes(
    sandbox: Sandbox = Depends(get_sandbox), visible: Visible = Depends(visible_inboxes)
) -> Response:
    """Every inbox that holds mail (of those the login may see)."""
    return GoJSONResponse({"inboxes": await sandbox.db.read(lambda c: inbox_counts(c, visible))})


@router.get("/inbox-rules")
async def list_rules(sandbox: Sandbox = Depends(get_sandbox)) -> Response:
    """The rules in force, in the order they are tried."""
    return GoJSONResponse({"rules": [r.as_json() for r in sandbox.mailbox.inbox_rules.rules]})


async def add_rule(sandbox: Sandbox, text: str) -> InboxRule:
    """Store a rule (InboxRuleError when it cannot be read) and put it in force."""
    rule = InboxRule.parse(text)
    stored = await sandbox.db.write(lambda conn: store.add(conn, rule))
    await sandbox.inbox_rules_changed()
    return stored


async def delete_rule(sandbox: Sandbox, rule_id: str) -> bool:
    deleted = await sandbox.db.write(lambda conn: store.delete(conn, rule_id))
    await sandbox.inbox_rules_changed()
    return deleted


@router.post("/inbox-rules")
async def create_rule(request: Request, sandbox: Sandbox = Depends(get_sandbox)) -> Response:
    """``{"Rule": "to:*@tenant-a.test=tenant-a"}``: tried after the rules there are."""
    try:
        text = string_field(await json_body(request), "Rule")
        rule = await add_rule(sandbox, text)
    except (BodyError, InboxRuleError) as exc:
        return bad_request(str(exc))
    return GoJSONResponse(rule.as_json())


@router.delete("/inbox-rules/{rule_id}")
async def remove_rule(rule_id: str, sandbox: Sandbox = Depends(get_sandbox)) -> Response:
    if not await delete_rule(sandbox, rule_id):
        return not_found("Inbox rule not found")
    return ok()
