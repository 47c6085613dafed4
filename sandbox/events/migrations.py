"""Migrations of the event engine's tables (``events.*``), plain SQL frozen as it shipped.

The tables are described by the SQLModel classes of ``events/models.py``; 0001 is the DDL
SQLAlchemy generated from them, and ``tests/sandbox/storage/test_schema.py`` checks that a
migrated database still matches them.
"""

from __future__ import annotations

import sqlite3

from mailsandbox.storage.db import Migration
from mailsandbox.storage.migrations import run_statements


def _events_0001(conn: sqlite3.Connection) -> None:
    run_statements(
        conn,
        """CREATE TABLE event_schedule (
            seq INTEGER NOT NULL, message_id VARCHAR NOT NULL, recipient VARCHAR NOT NULL,
            type VARCHAR NOT NULL, due FLOAT NOT NULL, reason VARCHAR NOT NULL,
            code INTEGER NOT NULL, details_json VARCHAR NOT NULL,
            PRIMARY KEY (seq))""",
        "CREATE INDEX ix_event_schedule_due ON event_schedule (due)",
        "CREATE INDEX ix_event_schedule_message_id ON event_schedule (message_id)",
        """CREATE TABLE webhook_outbox (
            seq INTEGER NOT NULL, id VARCHAR NOT NULL, created FLOAT NOT NULL,
            provider VARCHAR NOT NULL, endpoint_id VARCHAR NOT NULL, url VARCHAR NOT NULL,
            signed INTEGER NOT NULL, message_id VARCHAR NOT NULL, event_id VARCHAR NOT NULL,
            payload_json VARCHAR NOT NULL, status VARCHAR NOT NULL, attempts INTEGER NOT NULL,
            next_attempt FLOAT NOT NULL, updated FLOAT NOT NULL, last_status INTEGER NOT NULL,
            last_error VARCHAR NOT NULL,
            PRIMARY KEY (seq), UNIQUE (id))""",
        "CREATE INDEX ix_webhook_outbox_created ON webhook_outbox (created)",
        "CREATE INDEX ix_webhook_outbox_message_id ON webhook_outbox (message_id)",
        "CREATE INDEX ix_webhook_outbox_next_attempt ON webhook_outbox (next_attempt)",
        "CREATE INDEX ix_webhook_outbox_provider ON webhook_outbox (provider)",
        "CREATE INDEX ix_webhook_outbox_status ON webhook_outbox (status)",
        """CREATE TABLE webhook_attempts (
            seq INTEGER NOT NULL, outbox_id VARCHAR NOT NULL, batch_id VARCHAR NOT NULL,
            attempt INTEGER NOT NULL, created FLOAT NOT NULL, status_code INTEGER NOT NULL,
            ok INTEGER NOT NULL, latency_ms FLOAT NOT NULL, response_excerpt VARCHAR NOT NULL,
            error VARCHAR NOT NULL,
            PRIMARY KEY (seq))""",
        "CREATE INDEX ix_webhook_attempts_created ON webhook_attempts (created)",
        "CREATE INDEX ix_webhook_attempts_outbox_id ON webhook_attempts (outbox_id)",
        """CREATE TABLE event_rules (
            seq INTEGER NOT NULL, id VARCHAR NOT NULL, rule_json VARCHAR NOT NULL,
            PRIMARY KEY (seq), UNIQUE (id))""",
        "CREATE INDEX ix_webhook_outbox_pending ON webhook_outbox (status, next_attempt)",
    )


MIGRATIONS: list[Migration] = [Migration("events.0001_schedule_outbox_attempts", _events_0001)]
