"""Webhook endpoints in storage: read once per write transaction (ingest asks for every
message), and still exact when the transaction itself changes them (both backends)."""

from __future__ import annotations

import pytest

from mailsandbox.storage import webhooks as store
from mailsandbox.storage.db import Database
from mailsandbox.storage.sql import Connection
from mailsandbox.storage.webhooks import WebhookEndpoint


def _urls(conn: Connection, provider: str | None = None, scope: str | None = None) -> list[str]:
    return [e.url for e in store.list_endpoints(conn, provider, scope)]


def test_a_transaction_sees_its_own_changes(core_database: Database) -> None:
    def scenario(conn: Connection) -> list[list[str]]:
        seen = [_urls(conn, "sendgrid")]
        first = store.save(conn, WebhookEndpoint("sendgrid", "http://a.test/"))
        store.save(conn, WebhookEndpoint("mailgun", "http://b.test/", scope="mg.test"))
        seen.append(_urls(conn, "sendgrid"))
        first.url = "http://changed.test/"
        store.save(conn, first)
        seen += [_urls(conn, "sendgrid"), _urls(conn, scope="mg.test"), _urls(conn)]
        listed = store.list_endpoints(conn, "sendgrid")[0]
        listed.url = "http://not-saved.test/"  # a caller's own copy: changes nothing stored
        seen.append(_urls(conn, "sendgrid"))
        store.delete(conn, first.id)
        seen.append(_urls(conn))
        return seen

    assert core_database.write_sync(scenario) == [
        [],
        ["http://a.test/"],
        ["http://changed.test/"],
        ["http://b.test/"],
        ["http://changed.test/", "http://b.test/"],
        ["http://changed.test/"],
        ["http://b.test/"],
    ]
    assert core_database.read_sync(_urls) == ["http://b.test/"]


def test_the_next_transaction_sees_a_change_committed_before_it(core_database: Database) -> None:
    assert core_database.write_sync(lambda conn: _urls(conn, "generic")) == []
    saved = core_database.write_sync(
        lambda conn: store.save(conn, WebhookEndpoint("generic", "http://new.test/"))
    )
    assert core_database.write_sync(lambda conn: _urls(conn, "generic")) == ["http://new.test/"]
    core_database.write_sync(lambda conn: store.delete(conn, saved.id))
    assert core_database.write_sync(lambda conn: _urls(conn, "generic")) == []


@pytest.mark.sqlite_only  # (the statement trace is sqlite3's)
def test_the_table_is_read_once_per_write_transaction(core_database: Database) -> None:
    def scenario(conn: Connection) -> int:
        reads: list[str] = []
        conn.set_trace_callback(  # type: ignore[attr-defined]
            lambda sql: reads.append(sql) if "FROM webhook_endpoints" in sql else None
        )
        try:
            for _ in range(8):  # a group commit of 8 messages, three lookups each
                _urls(conn, "sendgrid")
                _urls(conn, "mailgun")
                _urls(conn, "generic")
        finally:
            conn.set_trace_callback(None)  # type: ignore[attr-defined]
        return len(reads)

    assert core_database.write_sync(scenario) == 1
    assert core_database.read_sync(scenario) == 24  # outside a write transaction: as asked
