"""Inbound routing micro-benchmark: what the ingest prepare hook adds to the write of a message.

Every message received over SMTP goes through :meth:`InboundRouting.prepare` inside its write
transaction. On a real database file (all migrations applied, the SendGrid and Mailgun routers
registered as the app registers them) this prints the CPU time per message of, in the same
run, alternately, best of several rounds:

- ``write``: ``messages.insert_message`` of the 5 KB text message of ``bench/smtp_ingest.py``
  (the core of an ingest write, the baseline);
- ``write + routing, no rules``: the same plus the hook, nothing configured (every user who never
  configures inbound mail pays this);
- ``write + routing, 1 parse setting + 3 routes, no match``: rules that do not match;
- ``write + routing, match``: a parse setting and a route that match (two outbox rows written).

    .venv/bin/python bench/inbound_routing.py [--number 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from smtp_ingest import message_body

from mailsandbox import ingest
from mailsandbox.app import create_app
from mailsandbox.config import Settings
from mailsandbox.inbound import routing_of
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import messages, webhooks
from mailsandbox.storage.db import connect

HOST = "inbound.example.com"


def sandbox_at(path: Path) -> tuple[Sandbox, sqlite3.Connection]:
    """A sandbox's database (migrated) and routers, without starting any server."""
    settings = Settings.from_env(environ={}, db=str(path), smtp="127.0.0.1:0", http="127.0.0.1:0")
    sandbox: Sandbox = create_app(settings).state.sandbox
    sandbox.db.open()  # migrations
    sandbox.db.close()
    return sandbox, connect(path, attachments=sandbox.db.attachments)


def rules(conn: sqlite3.Connection, matching: bool) -> None:
    conn.execute("DELETE FROM webhook_endpoints")
    host = HOST if matching else "parse.example.org"
    parse = webhooks.WebhookEndpoint(provider="sendgrid-parse", url="http://app/in", scope=host)
    parse.details = {"hostname": host, "spam_check": False, "send_raw": False}
    webhooks.save(conn, parse)
    expressions = ['match_recipient("support@.*")', 'match_header("subject", ".*urgent")']
    expressions.append(f'match_recipient(".*@{HOST}")' if matching else 'match_recipient("x@y")')
    for n, expression in enumerate(expressions):
        route = webhooks.WebhookEndpoint(provider="mailgun-route", url="", id=f"route{n}")
        route.details = {
            "priority": n,
            "expression": expression,
            "actions": ['forward("http://a")'],
        }
        webhooks.save(conn, route)


def measure(
    sandbox: Sandbox, conn: sqlite3.Connection, number: int, route: bool
) -> Callable[[], float]:
    raw = message_body().replace(b"<inbox@example.com>", f"<a@{HOST}>".encode())
    prepare = routing_of(sandbox).prepare

    def run() -> float:
        conn.execute("BEGIN")
        started = time.process_time()
        for _ in range(number):
            new = ingest.prepare(ingest.Inbound(raw, "bench@example.com", [f"a@{HOST}"]))
            if route:
                prepare(conn, new)
            messages.insert_message(conn, new)
        elapsed = time.process_time() - started
        conn.execute("ROLLBACK")
        return elapsed / number * 1e6

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--number", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sandbox, conn = sandbox_at(Path(tmp) / "bench.db")
        cases: list[tuple[str, Callable[[], None], bool]] = [
            ("write", lambda: conn.execute("DELETE FROM webhook_endpoints"), False),
            (
                "write + routing, no rules",
                lambda: conn.execute("DELETE FROM webhook_endpoints"),
                True,
            ),
            (
                "write + routing, 1 parse setting + 3 routes, no match",
                lambda: rules(conn, False),
                True,
            ),
            ("write + routing, match (2 outbox rows)", lambda: rules(conn, True), True),
        ]
        best = {name: float("inf") for name, _, _ in cases}
        for _ in range(args.rounds):
            for name, setup, route in cases:
                setup()
                best[name] = min(best[name], measure(sandbox, conn, args.number, route)())
        baseline = best["write"]
        for name, _, _ in cases:
            extra = best[name] - baseline
            print(f"{name:58} {best[name]:7.1f} µs/message  (+{extra:5.1f} µs)")


if __name__ == "__main__":
    main()
