"""Rules added live (API, UI) survive a restart: kept in ``event_rules`` with their ``enabled``
flag (inside ``rule_json``) and their ``position`` (the order they are tried in)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from mailsandbox.events.rules import Rule, RuleError, parse_rule
from mailsandbox.storage.sql import Connection


def save(conn: Connection, rule: Rule) -> None:
    """Store a new rule after the others."""
    conn.execute(
        "INSERT INTO event_rules (id, rule_json, position)"
        " VALUES (?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM event_rules))",
        (rule.id, json.dumps(rule.to_json())),
    )


def update(conn: Connection, rule: Rule) -> bool:
    """Rewrite a stored rule (e.g. its ``enabled`` flag); False if it is not stored here."""
    query = "UPDATE event_rules SET rule_json = ? WHERE id = ?"
    return conn.execute(query, (json.dumps(rule.to_json()), rule.id)).rowcount > 0


def set_order(conn: Connection, rule_ids: Sequence[str]) -> None:
    """Number the stored rules in the order of ``rule_ids`` (ids not stored are ignored)."""
    conn.executemany(
        "UPDATE event_rules SET position = ? WHERE id = ?",
        [(position, rule_id) for position, rule_id in enumerate(rule_ids, 1)],
    )


def delete(conn: Connection, rule_id: str) -> bool:
    return conn.execute("DELETE FROM event_rules WHERE id = ?", (rule_id,)).rowcount > 0


def load(conn: Connection) -> list[Rule]:
    out: list[Rule] = []
    for row in conn.execute("SELECT id, rule_json FROM event_rules ORDER BY position, seq"):
        data = json.loads(row[1])
        try:
            rule = parse_rule(data, origin=str(data.get("origin", "api")))
        except RuleError:
            continue  # written by an older version with other fields: skip, never crash
        rule.id = row[0]
        out.append(rule)
    return out
