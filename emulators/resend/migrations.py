"""Resend's schema: idempotency keys and the resources table (domains, API keys, templates).

Migration ids ``resend.0001_idempotency``, ``resend.0002_resources``; the code that uses the
tables is in ``idempotency`` and ``resources``.
"""

from __future__ import annotations

from mailsandbox.storage.db import Migration
from mailsandbox.storage.migrations import run_statements
from mailsandbox.storage.sql import Connection


# --- idempotency.py's tables
def _idempotency_0001(conn: Connection) -> None:
    run_statements(  # the table IdempotencyRow (tables.py) describes
        conn,
        """CREATE TABLE resend_idempotency (
            "key" VARCHAR NOT NULL, fingerprint VARCHAR NOT NULL, status INTEGER NOT NULL,
            body VARCHAR NOT NULL, created FLOAT NOT NULL, PRIMARY KEY ("key"))""",
    )


def _idempotency_0001_postgresql(conn: Connection) -> None:
    run_statements(
        conn,
        """CREATE TABLE resend_idempotency (
            "key" VARCHAR COLLATE "C" NOT NULL, fingerprint VARCHAR COLLATE "C" NOT NULL,
            status INTEGER NOT NULL, body VARCHAR COLLATE "C" NOT NULL,
            created DOUBLE PRECISION NOT NULL, PRIMARY KEY ("key"))""",
    )


# --- account_api.py's tables
def _account_api_0002(conn: Connection) -> None:
    run_statements(  # the table ResourceRow (tables.py) describes
        conn,
        """CREATE TABLE resend_resources (
            id VARCHAR NOT NULL, kind VARCHAR NOT NULL, name VARCHAR NOT NULL,
            data_json VARCHAR NOT NULL, created FLOAT NOT NULL, PRIMARY KEY (id))""",
        "CREATE INDEX ix_resend_resources_kind ON resend_resources (kind)",
    )


def _account_api_0002_postgresql(conn: Connection) -> None:
    run_statements(
        conn,
        """CREATE TABLE resend_resources (
            id VARCHAR COLLATE "C" NOT NULL, kind VARCHAR COLLATE "C" NOT NULL,
            name VARCHAR COLLATE "C" NOT NULL, data_json VARCHAR COLLATE "C" NOT NULL,
            created DOUBLE PRECISION NOT NULL, PRIMARY KEY (id))""",
        "CREATE INDEX ix_resend_resources_kind ON resend_resources (kind)",
    )


MIGRATIONS: list[Migration] = [
    Migration(
        "resend.0001_idempotency", _idempotency_0001, postgresql=_idempotency_0001_postgresql
    ),
    Migration("resend.0002_resources", _account_api_0002, postgresql=_account_api_0002_postgresql),
]
