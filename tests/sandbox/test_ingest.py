"""The one ingest path: normalisation, durable-then-searchable, the ``new`` event, recovery."""

from __future__ import annotations

import asyncio
import smtplib
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from mailsandbox import bus, indexer
from mailsandbox.config import Settings
from mailsandbox.ingest import Inbound, normalize_line_endings, prepare
from mailsandbox.runner import RunningSandbox
from mailsandbox.storage import messages, search
from mailsandbox.storage.db import Database
from tests.conftest import make_settings
from tests.waiting import eventually


def test_prepare_normalises_and_adds_headers() -> None:
    new = prepare(
        Inbound(
            raw=b"From: a@example.com\nTo: b@example.com\nSubject: Hi\n\nBody\n",
            mail_from="bounce@example.com",
            rcpt_tos=["b@example.com", "hidden@example.com"],
            inbox="",
        )
    )
    head = new.raw.split(b"\r\n\r\n")[0].split(b"\r\n")
    assert head[0].startswith(b"Message-ID: <") and head[0].endswith(b"@mailsandbox>")
    assert head[1:3] == [b"Return-Path: <bounce@example.com>", b"Bcc: hidden@example.com"]
    assert new.raw.endswith(b"Subject: Hi\r\n\r\nBody\r\n")
    assert [a.address for a in new.parsed.bcc] == ["hidden@example.com"]
    assert new.inbox == "default"
    assert "hidden@example.com" in new.parsed.search_text
    assert "bounce@example.com" in new.parsed.search_text
    assert new.parsed.search_text == " ".join(new.parsed.search_text.split())


def test_header_inbox_and_tags() -> None:
    new = prepare(
        Inbound(
            raw=b"X-Sandbox-Inbox: team-a\r\nX-Tags: one, two\r\nTo: x+promo@example.com\r\n\r\n",
            inbox="alice",
            tags=["api"],
        )
    )
    assert new.inbox == "team-a"
    assert set(new.tags) >= {"one", "two", "api"}


def test_line_endings() -> None:
    assert normalize_line_endings(b"a\nb\r\nc\rd") == b"a\r\nb\r\nc\r\nd"
    assert normalize_line_endings(b"plain") == b"plain"


def test_smtp_message_is_searchable_and_announced(running: RunningSandbox) -> None:
    sandbox = running.sandbox
    with sandbox.bus.subscribe(lambda event: event.type == bus.NEW) as announced:
        with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=10) as client:
            client.sendmail("a@example.com", ["b@example.com"], b"Subject: s\r\n\r\nzebracorn\r\n")
        event = running.call(asyncio.wait_for(announced.get(), 10))
    assert isinstance(event.data, messages.MessageSummary)
    assert event.data.subject == "s"
    # "new" comes once the message is searchable: the index has it (read_sync does not wait).
    assert sandbox.db.read_sync(lambda conn: search.search(conn, "zebracorn")).total == 1


def test_reads_wait_for_acknowledged_messages_to_be_searchable(running: RunningSandbox) -> None:
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=10) as client:
        for n in range(20):
            client.sendmail("a@example.com", ["b@example.com"], b"Subject: q\r\n\r\nokapi\r\n")
            page = running.call(
                running.sandbox.db.read(lambda conn: search.search(conn, "okapi", limit=100))
            )
            assert page.total == n + 1


def test_index_left_behind_by_a_crash_is_repaired_at_start(
    tmp_path: Path, sandbox_factory: Callable[..., RunningSandbox]
) -> None:
    first = sandbox_factory()
    with smtplib.SMTP(first.smtp_host, first.smtp_port, timeout=10) as client:
        client.sendmail("a@example.com", ["b@example.com"], b"Subject: s\r\n\r\nplatypus\r\n")
    (summary,) = first.sandbox.db.read_sync(lambda conn: messages.list_summaries(conn))
    first.stop()

    # What a kill -9 can leave: a committed message not indexed yet, and the index row of a
    # message whose deletion committed in the main file but not in the index's.
    settings: Settings = make_settings(tmp_path)

    def damage(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM messages_fts WHERE rowid = ?", (summary.seq,))
        conn.execute("INSERT INTO messages_fts (rowid, search_text) VALUES (999, 'wombat')")

    database = Database(settings.db_path, [], attachments=[indexer.attachment(settings.db_path)])
    database.open()
    database.write_sync(damage)
    assert database.read_sync(lambda conn: search.search(conn, "platypus")).total == 0
    database.close()

    second = sandbox_factory()

    async def lookup(query: str) -> int:
        page = await second.sandbox.db.read(lambda conn: search.search(conn, query))
        return page.total

    assert second.call(lookup("platypus")) == 1
    assert second.call(lookup("wombat")) == 0
    stray = "SELECT COUNT(*) FROM messages_fts WHERE rowid = 999"
    assert second.sandbox.db.read_sync(lambda conn: conn.execute(stray).fetchone()[0]) == 0


@pytest.mark.parametrize("wait_for_all", [indexer.WAIT_FOR_ALL, 2])
def test_an_index_from_before_the_search_file_is_rebuilt(
    tmp_path: Path,
    sandbox_factory: Callable[..., RunningSandbox],
    monkeypatch: pytest.MonkeyPatch,
    wait_for_all: int,
) -> None:
    """Upgrading a database whose index lived in the main file (before core.0200): a few
    messages are indexed before reads; many (here over ``wait_for_all``) while serving."""
    monkeypatch.setattr(indexer, "WAIT_FOR_ALL", wait_for_all)
    first = sandbox_factory()
    with smtplib.SMTP(first.smtp_host, first.smtp_port, timeout=10) as client:
        for n in range(3):
            client.sendmail("a@example.com", ["b@example.com"], f"Subject: {n}\r\n\r\nquokka\r\n")
    first.stop()
    settings: Settings = make_settings(tmp_path)
    indexer.attachment(settings.db_path).path.unlink()  # the index as it was: not there
    with sqlite3.connect(settings.db_path) as conn:
        conn.execute("DELETE FROM schema_migrations WHERE id = 'core.0200_search_index_file'")
        conn.execute("CREATE VIRTUAL TABLE messages_fts USING fts5(search_text)")

    second = sandbox_factory()

    async def lookup() -> int:
        page = await second.sandbox.db.read(lambda conn: search.search(conn, "quokka"))
        return page.total

    eventually(lambda: second.call(lookup()) == 3, what="the rebuilt index finds all three")
    with sqlite3.connect(settings.db_path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert "messages_fts" not in tables and "index_backlog" not in tables


def test_a_cancelled_ingest_that_committed_is_still_indexed_and_announced(
    running: RunningSandbox,
) -> None:
    sandbox = running.sandbox

    async def cancel_after_submit() -> int:
        with sandbox.bus.subscribe(lambda event: event.type == bus.NEW) as announced:
            task = asyncio.ensure_future(
                sandbox.mailbox.ingest(
                    Inbound(raw=b"Subject: c\r\n\r\nwombat\r\n", rcpt_tos=["x@example.com"]),
                    searchable=False,
                )
            )
            await asyncio.sleep(0)  # prepared and queued for the writer
            task.cancel()
            event = await asyncio.wait_for(announced.get(), 10)
        assert event.data.subject == "c"
        page = await sandbox.db.read(lambda conn: search.search(conn, "wombat"))
        return page.total

    assert running.call(cancel_after_submit()) == 1


def test_an_index_made_before_the_merge_setting_takes_it_and_still_finds_its_mail(
    tmp_path: Path, sandbox_factory: Callable[..., RunningSandbox]
) -> None:
    """``indexer.AUTOMERGE`` lives in the index file: one written by an earlier version (FTS5's
    default) gets it at the next start, and its messages are found as before."""
    first = sandbox_factory()
    with smtplib.SMTP(first.smtp_host, first.smtp_port, timeout=10) as client:
        client.sendmail("a@example.com", ["b@example.com"], b"Subject: s\r\n\r\nnumbat\r\n")
    first.stop()
    index_file = indexer.attachment(make_settings(tmp_path).db_path).path
    setting = "SELECT v FROM messages_fts_config WHERE k = 'automerge'"
    with sqlite3.connect(index_file) as conn:  # as an earlier version left it
        conn.execute("DELETE FROM messages_fts_config WHERE k = 'automerge'")
    with sqlite3.connect(index_file) as conn:
        assert conn.execute(setting).fetchone() is None

    second = sandbox_factory()
    page = second.sandbox.db.read_sync(lambda conn: search.search(conn, "numbat"))
    assert page.total == 1
    second.stop()
    with sqlite3.connect(index_file) as conn:
        assert conn.execute(setting).fetchone() == (indexer.AUTOMERGE,)
