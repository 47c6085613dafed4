"""``GET /metrics``: the sandbox's counters and gauges in Prometheus's text format.

Counters (since the process started): messages and bytes received by door (``smtp``,
``sendgrid``, ``mailgun``, ``api``, ``import``…), SMTP sessions, refusals and connections turned
away, webhook POSTs by provider and result, releases and auto-relays by result, POP3 sessions
and logins. The ingest latency histogram runs from a door handing a message over to its commit.
Gauges are read at each scrape: messages stored and unread, the webhook outbox's depth, open
SMTP connections, the database files' sizes. Behind ``--ui-auth`` like the rest of the API.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Depends, Response

from mailsandbox import indexer, metrics
from mailsandbox.api.deps import get_sandbox
from mailsandbox.events.access import engine_of
from mailsandbox.metrics import Family, counter, gauge
from mailsandbox.pop3.access import pop3_of
from mailsandbox.relay.access import relay_of
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import messages
from mailsandbox.storage.sql import Connection
from mailsandbox.storage.sqlite import file_size

router = APIRouter(tags=["info"])
PREFIX = "mailsandbox_"


def _stored(sandbox: Sandbox, conn: Connection) -> tuple[int, int, int, int]:
    total, unread = messages.counts(conn)
    pending = conn.execute("SELECT COUNT(*) FROM webhook_outbox WHERE status = 'pending'")
    return total, unread, int(pending.fetchone()[0]), sandbox.db.backend.size(conn)


def _labelled(
    name: str, help: str, values: dict[tuple[str, str], int], labels: tuple[str, str]
) -> Family:
    samples = [({labels[0]: a, labels[1]: b}, v) for (a, b), v in sorted(values.items())]
    return Family(name, "counter", help, list(samples))


async def families(sandbox: Sandbox) -> list[Family]:
    total, unread, pending, size = await sandbox.db.read(lambda conn: _stored(sandbox, conn))
    mailbox, smtp = sandbox.mailbox, sandbox.smtp_stats
    out = [
        counter("messages_received", "Messages stored, by the door they came in by.",
                mailbox.received, "door"),
        counter("received_bytes", "Bytes of the messages stored, by door.",
                mailbox.received_bytes, "door"),
        Family("ingest_seconds", "histogram",
               "Seconds from a door handing a message over to its commit.",
               histogram=mailbox.latency),
        gauge("messages_stored", "Messages in the database now.", total),
        gauge("messages_unread", "Unread messages in the database now.", unread),
        counter("smtp_sessions", "SMTP connections accepted.", smtp.sessions),
        gauge("smtp_connections", "SMTP connections open now.", smtp.connections),
        counter("smtp_rejected", "SMTP commands refused (rules, faults, store failures).",
                smtp.rejected),
        counter("smtp_refused_connections",
                "SMTP connections turned away at --smtp-max-connections.",
                smtp.refused_connections),
        _labelled("webhook_attempts", "Webhook POSTs by provider and result"
                  " (delivered, retrying, stopped, failed).",
                  engine_of(sandbox).dispatcher.attempts, ("provider", "result")),
        gauge("webhook_outbox_pending", "Webhook deliveries waiting to be sent.", pending),
        _labelled("releases", "Releases and auto-relays by trigger and result.",
                  relay_of(sandbox).results, ("trigger", "result")),
    ]  # fmt: skip
    pop3 = pop3_of(sandbox)
    if pop3 is not None:
        out += [
            counter("pop3_sessions", "POP3 connections accepted.", pop3.sessions),
            counter("pop3_logins", "POP3 logins by result.", pop3.login_results, "result"),
        ]
    # (PostgreSQL: the whole database's size, as "messages"; the search text is in it.)
    files: list[tuple[Mapping[str, str], float]] = [({"file": "messages"}, size)]
    if sandbox.settings.database_url is None:
        search_path = indexer.attachment(sandbox.settings.db_path).path
        files.append(({"file": "search"}, file_size(search_path)))
    sizes = Family("database_bytes", "gauge", "Bytes on disk of the database files.", files)
    for family in [*out, sizes]:
        family.name = PREFIX + family.name
    return [*out, sizes]


@router.get("/metrics")
async def metrics_endpoint(sandbox: Sandbox = Depends(get_sandbox)) -> Response:
    """Prometheus text exposition format, version 0.0.4."""
    body = metrics.render(await families(sandbox))
    return Response(body, media_type=metrics.CONTENT_TYPE)
