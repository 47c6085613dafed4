"""Postmark's Bounces API on the shared events: ``/bounces`` (filtered, paged), ``/bounces/{id}``,
``/bounces/{id}/dump``, ``PUT /bounces/{id}/activate``, ``/bounces/tags`` and
``/deliverystats``.

A bounce record is a ``bounced``, ``deferred`` (Transient), ``complained`` (SpamComplaint) or
rule-``rejected`` (BadEmailAddress) event of a Postmark message, rendered as its webhook is
(``event_format.bounce_record``); its ``ID`` is the event's sequence number. ``Inactive`` says
whether the address is on the stream's suppression list now; activating a bounce takes it off
(the address may be sent to again), as Postmark's activate does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from mailsandbox.emulators.postmark import event_format
from mailsandbox.emulators.postmark.errors import BOUNCE_NOT_FOUND, BOUNCES_QUERY, PostmarkError
from mailsandbox.emulators.postmark.event_format import BOUNCE_TYPES
from mailsandbox.emulators.postmark.wire import answer, authorize, int_param
from mailsandbox.storage import events, messages, suppressions
from mailsandbox.storage.events import DeliveryEvent
from mailsandbox.storage.messages import MessageSummary
from mailsandbox.storage.sql import Connection

BOUNCE_EVENTS = ["bounced", "deferred", "complained", "rejected"]
LIST_KINDS = ("bounce", "spam_report", "unsubscribe")


def _records(conn: Connection, extra: str = "", args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Every bounce record (newest first), ``Inactive`` as the lists say now."""
    found = events.query(
        conn, provider="postmark", types=BOUNCE_EVENTS, limit=-1, extra_where=extra,
        extra_args=args,
    )  # fmt: skip
    ids = list({e.message_id: None for e in found})
    summaries = {s.id: s for s in messages.get_summaries(conn, ids)}
    out = []
    for event in found:
        message = summaries.get(event.message_id)
        if message is None:
            continue
        record = _record(conn, event, message)
        if record is not None:
            out.append(record)
    return out


def _record(
    conn: Connection, event: DeliveryEvent, message: MessageSummary
) -> dict[str, Any] | None:
    record = event_format.bounce_record(event, message)
    if record is not None:
        kinds = suppressions.suppressed_kinds(conn, record["Email"], (record["MessageStream"],))
        record["Inactive"] = any(kind in LIST_KINDS for kind in kinds)
    return record


def _when(text: str | None, name: str, *, end: bool = False) -> float | None:
    """A ``fromdate``/``todate`` filter (a date alone covers its whole day) as epoch seconds."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise PostmarkError(BOUNCES_QUERY, f"The '{name}' parameter is not a date.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    day = 86400.0 if end and len(text) <= 10 else 0.0
    return moment.timestamp() + day


def _matches(record: dict[str, Any], q: Any) -> bool:
    wanted = {
        "Type": q.get("type"),
        "Tag": q.get("tag"),
        "MessageID": q.get("messageID") or q.get("messageid"),
        "MessageStream": q.get("messagestream") or q.get("messageStream"),
    }
    for key, value in wanted.items():
        if value and str(record.get(key, "")) != value:
            return False
    inactive = q.get("inactive")
    if inactive and str(record["Inactive"]).lower() != inactive.lower():
        return False
    email = q.get("emailFilter") or q.get("emailfilter")
    return not email or email.lower() in record["Email"].lower()


async def list_bounces(request: Request) -> Response:
    caller = authorize(request)
    q = request.query_params
    count = int_param(request, "count", 500, BOUNCES_QUERY)
    offset = int_param(request, "offset", 0, BOUNCES_QUERY, most=10**9)
    clauses, args = [], []
    begin = _when(q.get("fromdate") or q.get("fromDate"), "fromdate")
    if begin is not None:
        clauses.append("created >= ?")
        args.append(begin)
    end = _when(q.get("todate") or q.get("toDate"), "todate", end=True)
    if end is not None:
        clauses.append("created <= ?")
        args.append(end)
    found = await caller.sandbox.db.read(
        lambda conn: _records(conn, " AND ".join(clauses), tuple(args))
    )
    found = [r for r in found if _matches(r, q)]
    return answer({"TotalCount": len(found), "Bounces": found[offset : offset + count]})


async def _one(request: Request) -> tuple[Any, dict[str, Any]]:
    caller = authorize(request)
    raw = str(request.path_params["bounce"])
    if not raw.isdigit():
        raise PostmarkError(BOUNCE_NOT_FOUND, f"The bounce '{raw}' was not found.")
    found = await caller.sandbox.db.read(lambda conn: _records(conn, "seq = ?", (int(raw),)))
    if not found:
        raise PostmarkError(BOUNCE_NOT_FOUND, f"The bounce '{raw}' was not found.")
    return caller, found[0]


async def get_bounce(request: Request) -> Response:
    return answer((await _one(request))[1])


async def bounce_dump(request: Request) -> Response:
    await _one(request)
    return answer({"Body": ""})  # no SMTP session to show: DumpAvailable is false


async def activate_bounce(request: Request) -> Response:
    caller, record = await _one(request)

    def write(conn: Connection) -> None:
        for kind in ("bounce", "spam_report"):
            suppressions.remove(conn, kind, record["Email"], record["MessageStream"])

    await caller.sandbox.db.write(write)
    return answer({"Message": "OK", "Bounce": {**record, "Inactive": False}})


async def bounce_tags(request: Request) -> Response:
    caller = authorize(request)
    found = await caller.sandbox.db.read(_records)
    return answer(sorted({r["Tag"] for r in found if r.get("Tag")}))


async def delivery_stats(request: Request) -> Response:
    caller = authorize(request)

    def read(conn: Connection) -> tuple[list[dict[str, Any]], int]:
        found = _records(conn)
        inactive = conn.execute(
            "SELECT COUNT(DISTINCT email) FROM suppressions WHERE kind IN (?, ?)",
            ("bounce", "spam_report"),
        ).fetchone()[0]
        return found, int(inactive)

    found, inactive = await caller.sandbox.db.read(read)
    counts: dict[str, int] = {}
    for record in found:
        counts[record["Type"]] = counts.get(record["Type"], 0) + 1
    bounces: list[dict[str, Any]] = [{"Name": "All", "Count": len(found)}]
    bounces += [
        {"Type": kind, "Name": BOUNCE_TYPES[kind][1], "Count": n} for kind, n in counts.items()
    ]
    return answer({"InactiveMails": inactive, "Bounces": bounces})


ROUTES = [
    ("GET", "/bounces", list_bounces),
    ("GET", "/bounces/", list_bounces),
    ("GET", "/bounces/tags", bounce_tags),
    ("GET", "/bounces/{bounce}", get_bounce),
    ("GET", "/bounces/{bounce}/dump", bounce_dump),
    ("PUT", "/bounces/{bounce}/activate", activate_bounce),
    ("GET", "/deliverystats", delivery_stats),
]
