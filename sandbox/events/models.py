"""Tables of the event engine: live rules, scheduled delivery steps, the webhook outbox and
its attempts.

``event_rules`` keeps the rules added live. ``event_schedule`` holds what the engine decided
will happen to each recipient (a ``deferred`` in 1 s, then ``delivered``...), so a restart
resumes the plan. ``webhook_outbox`` holds one row per (event, endpoint), written in the same
transaction as the event; ``webhook_attempts`` logs every POST made for an outbox row. Created
by the ``events.*`` migrations below.
"""

from __future__ import annotations

import sqlite3

from sqlmodel import Field, SQLModel

from mailsandbox.storage.db import Migration
from mailsandbox.storage.migrations import create_tables, run_statements


class ScheduledStepRow(SQLModel, table=True):
    """One future event of a recipient's lifecycle (applied, then deleted, when due)."""

    __tablename__ = "event_schedule"

    seq: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(index=True)
    recipient: str = ""
    type: str = ""
    due: float = Field(index=True)
    reason: str = ""
    code: int = 0
    details_json: str = "{}"


class OutboxRow(SQLModel, table=True):
    """A webhook payload waiting for (or done with) delivery to one endpoint."""

    __tablename__ = "webhook_outbox"

    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(unique=True)
    created: float = Field(index=True)
    provider: str = Field(index=True)  # sendgrid | mailgun | generic
    endpoint_id: str = ""
    url: str = ""
    signed: int = 0
    message_id: str = Field(default="", index=True)
    event_id: str = ""
    payload_json: str = "{}"
    status: str = Field(default="pending", index=True)  # pending | delivered | failed | stopped
    attempts: int = 0
    next_attempt: float = Field(default=0.0, index=True)
    updated: float = 0.0
    last_status: int = 0
    last_error: str = ""


class AttemptRow(SQLModel, table=True):
    """One HTTP POST made for an outbox row (a batched POST logs one row per item)."""

    __tablename__ = "webhook_attempts"

    seq: int | None = Field(default=None, primary_key=True)
    outbox_id: str = Field(index=True)
    batch_id: str = ""
    attempt: int = 0
    created: float = Field(index=True)
    status_code: int = 0
    ok: int = 0
    latency_ms: float = 0.0
    response_excerpt: str = ""
    error: str = ""


class RuleRow(SQLModel, table=True):
    """A rule added live (API or UI); rules from ``--rules-file`` are re-read at each start."""

    __tablename__ = "event_rules"

    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(unique=True)
    rule_json: str = "{}"  # the rule, its ``enabled`` flag included
    position: int = 0  # the order the rules are tried in (then ``seq``); events.0002 adds it


def _events_0001(conn: sqlite3.Connection) -> None:
    create_tables(conn, [ScheduledStepRow, OutboxRow, AttemptRow, RuleRow])
    run_statements(
        conn, "CREATE INDEX ix_webhook_outbox_pending ON webhook_outbox (status, next_attempt)"
    )


def _events_0002(conn: sqlite3.Connection) -> None:
    # Rules can be reordered: an explicit position, first set to the insertion order. (A new
    # database already has the column: 0001 creates the table from the current model.)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(event_rules)")}
    if "position" not in columns:
        run_statements(
            conn, "ALTER TABLE event_rules ADD COLUMN position INTEGER NOT NULL DEFAULT 0"
        )
    run_statements(conn, "UPDATE event_rules SET position = seq")


MIGRATIONS: list[Migration] = [
    Migration("events.0001_schedule_outbox_attempts", _events_0001),
    Migration("events.0002_rule_position", _events_0002),
]
