"""Inbox rules added through the API or the UI (``--inbox-rule`` ones are not stored): the
``inbox_rules`` table (``InboxRuleRow`` in ``storage/models.py``, created by core.0400)."""

from __future__ import annotations

import time

from mailsandbox import ids
from mailsandbox.inbox_rules import InboxRule
from mailsandbox.storage.sql import Connection


def list_rules(conn: Connection) -> list[InboxRule]:
    rows = conn.execute("SELECT id, rule FROM inbox_rules ORDER BY seq")
    return [InboxRule.parse(rule, rule_id) for rule_id, rule in rows]


def add(conn: Connection, rule: InboxRule) -> InboxRule:
    stored = InboxRule.parse(rule.text, ids.new_id())
    conn.execute(
        "INSERT INTO inbox_rules (id, rule, created) VALUES (?, ?, ?)",
        (stored.id, stored.text, time.time()),
    )
    return stored


def delete(conn: Connection, rule_id: str) -> bool:
    return conn.execute("DELETE FROM inbox_rules WHERE id = ?", (rule_id,)).rowcount > 0
