"""Suppression lists in storage: counts per list, and searching part of an address."""

from __future__ import annotations

from mailsandbox.storage import suppressions as store
from mailsandbox.storage.db import Database
from mailsandbox.storage.sql import Connection
from mailsandbox.storage.suppressions import Suppression


def test_counts_and_search_by_part_of_an_address(core_database: Database) -> None:
    def fill(conn: Connection) -> None:
        for kind, scope, email in [
            ("bounce", "", "ann_smith@example.com"),
            ("bounce", "", "annXsmith@example.com"),
            ("bounce", "", "100%@example.com"),
            ("unsubscribe", "", "bob@example.com"),
            ("bounce", "mg.example.com", "ann_smith@example.com"),
        ]:
            store.add(conn, Suppression(kind, email, scope))

    core_database.write_sync(fill)

    counts = core_database.read_sync(store.counts)
    underscores = core_database.read_sync(
        lambda conn: store.count_entries(conn, "bounce", email_contains="_SMITH")
    )
    percent = core_database.read_sync(
        lambda conn: [e.email for e in store.list_entries(conn, "bounce", email_contains="0%")]
    )
    scoped = core_database.read_sync(
        lambda conn: store.count_entries(conn, "bounce", "mg.example.com")
    )
    assert counts == {("", "bounce"): 3, ("", "unsubscribe"): 1, ("mg.example.com", "bounce"): 1}
    assert underscores == 1  # "_" is a literal underscore, not any character
    assert percent == ["100%@example.com"]
    assert scoped == 1


def test_a_write_transaction_checks_recipients_as_a_plain_read_does(
    core_database: Database,
) -> None:
    """In a write transaction whether the lists are empty is read once (the ingest fast
    path): recipients checked there, before and after an entry is added in the same
    transaction, get what a plain read gets."""
    emails = ["gone@example.com", "here@example.com", "GONE@example.com "]

    def check(conn: Connection) -> list[list[str]]:
        return [store.suppressed_kinds(conn, email, ("", "mg.example.com")) for email in emails]

    def add_between(conn: Connection) -> tuple[list[list[str]], list[list[str]]]:
        before = check(conn)
        store.add(conn, Suppression("bounce", "gone@example.com", "mg.example.com"))
        return before, check(conn)

    empty = core_database.read_sync(check)
    before, after = core_database.write_sync(add_between)
    assert before == empty == [[], [], []]
    assert after == core_database.read_sync(check) == [["bounce"], [], ["bounce"]]
    assert core_database.write_sync(check) == after  # (a new transaction: a list not empty)
