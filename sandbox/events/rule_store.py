"""Rules added live (API, UI) survive a restart: kept in ``event_rules``, in insertion order."""

from __future__ import annotations

import json

from mailsandbox.events.rules import Rule, RuleError, parse_rule
from mailsandbox.storage.sql import Connection


def save(conn: Connection, rule: Rule) -> None:
    conn.execute(
        "INSERT INTO event_rules (id, rule_json) VALUES (?, ?)",
        (rule.id, json.dumps(rule.to_json())),
    )


def delete(conn: Connection, rule_id: str) -> bool:
    return conn.execute("DELETE FROM event_rules WHERE id = ?", (rule_id,)).rowcount > 0


def load(conn: Connection) -> list[Rule]:
    out: list[Rule] = []
    for row in conn.execute("SELECT id, rule_json FROM event_rules ORDER BY seq"):
        data = json.loads(row[1])
        try:
            rule = parse_rule(data, origin=str(data.get("origin", "api")))
        except RuleError:
            continue  # written by an older version with other fields: skip, never crash
        rule.id = row[0]
        out.append(rule)
    return out
