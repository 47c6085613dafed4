"""``GET /v3/{domain}/stats/total``: a domain's event counts per hour, day or month, counted from
the delivery events the sandbox holds; also what ``GET /v3/{domain}/tags/{tag}/stats`` counts
(mailgun/documentation ``api-stats.rst`` and ``api-tags.rst``; mailgun.js ``StatsContainer``).

Parameters: ``event`` (repeatable, required), ``start`` / ``end`` (RFC 2822 or epoch; default
the last 7 days), ``resolution`` (``hour``, ``day``, ``month``; default ``day``), ``duration``
(``24h``, ``7d``, ``2m``: overrides ``start`` and the resolution). The answer has one entry per
period of the range, zeros included, with the documented breakdowns: ``accepted.outgoing``
(everything sent through the API), ``delivered.smtp``, ``failed.permanent`` (``bounce`` and
``suppress-bounce|unsubscribe|complaint``), ``failed.temporary`` (deferrals), a ``total`` for
``opened``, ``clicked``, ``unsubscribed``, ``complained``, ``stored``, and ``unique`` opens and
clicks (a recipient's first; "Retrieve stats by tag" in the API reference).
"""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from mailsandbox.emulators.mailgun.auth import Caller, caller
from mailsandbox.emulators.mailgun.errors import bad_request, mg_json
from mailsandbox.emulators.mailgun.event_query import parse_time
from mailsandbox.storage.sql import Connection, Row

router = APIRouter()
EVENTS = (
    "accepted",
    "delivered",
    "failed",
    "opened",
    "clicked",
    "unsubscribed",
    "complained",
    "stored",
)
RESOLUTIONS = ("hour", "day", "month")
_DURATION = re.compile(r"(\d+)([hdm])")
DOMAIN_EVENTS_SQL = """
SELECT e.type, e.created, e.message_id, e.recipient,
       json_extract(e.details_json, '$.suppressed') AS suppressed,
       json_extract(e.details_json, '$.severity') AS severity
FROM events e JOIN messages m ON m.id = e.message_id
WHERE json_extract(m.metadata_json, '$.mailgun.domain') = ? AND e.created >= ? AND e.created < ?
"""
WITH_TAG_SQL = (
    " AND EXISTS (SELECT 1 FROM json_each(m.metadata_json, '$.mailgun.tags') t WHERE t.value = ?)"
)


@dataclass(frozen=True)
class Period:
    """What a stats request counts: its events, range and buckets."""

    events: tuple[str, ...]
    start: float
    end: float
    resolution: str


def _floor(moment: float, resolution: str) -> datetime:
    when = datetime.fromtimestamp(moment, UTC)
    if resolution == "hour":
        return when.replace(minute=0, second=0, microsecond=0)
    when = when.replace(hour=0, minute=0, second=0, microsecond=0)
    return when.replace(day=1) if resolution == "month" else when


def _next(when: datetime, resolution: str) -> datetime:
    if resolution == "hour":
        return when + timedelta(hours=1)
    if resolution == "day":
        return when + timedelta(days=1)
    days = calendar.monthrange(when.year, when.month)[1]
    return when + timedelta(days=days)


def stats_time(when: datetime | float) -> str:
    """Mailgun's stats dates: ``Tue, 14 Feb 2012 00:00:00 UTC``."""
    moment = when if isinstance(when, datetime) else datetime.fromtimestamp(when, UTC)
    return moment.strftime("%a, %d %b %Y %H:%M:%S UTC")


def period_of(request: Request) -> Period:
    """The ``event``/``start``/``end``/``resolution``/``duration`` parameters; 400 if wrong."""
    q = request.query_params
    events = tuple(dict.fromkeys(e.strip() for e in q.getlist("event") if e.strip()))
    if not events:
        raise bad_request("'event' parameter is missing")  # [unverified] wording
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        raise bad_request(f"Invalid event type: {unknown[0]}")
    resolution = q.get("resolution", "day")
    if resolution not in RESOLUTIONS:
        raise bad_request(f"Invalid resolution: {resolution}")
    end = parse_time(q.get("end", ""), "end") or time.time()
    start = parse_time(q.get("start", ""), "start") or end - 7 * 86400
    duration = q.get("duration", "")
    if duration:
        match = _DURATION.fullmatch(duration)
        if match is None:
            raise bad_request(f"Invalid duration: {duration}")
        count, unit = int(match.group(1)), match.group(2)
        resolution = {"h": "hour", "d": "day", "m": "month"}[unit]
        start = end - count * {"h": 3600, "d": 86400, "m": 30 * 86400}[unit]
    return Period(events, start, end, resolution)


def _empty(event: str) -> dict[str, Any]:
    if event == "accepted":
        return {"incoming": 0, "outgoing": 0, "total": 0}
    if event == "delivered":
        return {"smtp": 0, "http": 0, "optimized": 0, "total": 0}
    if event == "failed":
        permanent = dict.fromkeys(
            (
                "suppress-bounce",
                "suppress-unsubscribe",
                "suppress-complaint",
                "bounce",
                "delayed-bounce",
                "webhook",
                "optimized",
                "total",
            ),
            0,
        )
        return {"temporary": {"espblock": 0, "total": 0}, "permanent": permanent}
    if event in ("opened", "clicked"):
        return {"total": 0, "unique": 0}
    return {"total": 0}


def _breakdown(row: Row) -> tuple[str, tuple[str, ...], str] | None:
    """Where an event row counts: (event, path to the counter with the ``total``, the detail
    counter beside it or ''); None for rows Mailgun's stats do not count."""
    kind, suppressed = row["type"], row["suppressed"]
    if kind == "queued":
        return "accepted", (), "outgoing"
    if kind == "delivered":
        return "delivered", (), "smtp"
    if kind == "deferred" and row["severity"] != "permanent":
        return "failed", ("temporary",), ""
    if kind == "rejected" and suppressed:
        return "failed", ("permanent",), f"suppress-{suppressed}"
    if kind in ("bounced", "deferred"):
        return "failed", ("permanent",), "bounce"
    if kind in ("opened", "clicked", "unsubscribed", "complained"):
        return kind, (), ""
    return None


def _count(entry: dict[str, Any], row: Row, first: bool) -> None:
    """Add one event row to a stats entry (``first``: the recipient's first of its type)."""
    found = _breakdown(row)
    if found is None or found[0] not in entry:
        return
    event, path, detail = found
    node = entry[event]
    for key in path:
        node = node[key]
    node["total"] += 1
    if detail in node:
        node[detail] += 1
    if first and "unique" in node:
        node["unique"] += 1


def count_stats(
    conn: Connection, domain: str, period: Period, tag: str | None = None
) -> list[dict[str, Any]]:
    """One entry per period of the range: ``{"time", <event>: counts...}``."""
    sql, args = DOMAIN_EVENTS_SQL, [domain, period.start, period.end]
    if tag is not None:
        sql, args = sql + WITH_TAG_SQL, [*args, tag]
    buckets: dict[datetime, dict[str, Any]] = {}
    at = _floor(period.start, period.resolution)
    while at.timestamp() < period.end:
        buckets[at] = {"time": stats_time(at), **{e: _empty(e) for e in period.events}}
        at = _next(at, period.resolution)
    seen: set[tuple[str, str, str]] = set()
    for row in conn.execute(sql + " ORDER BY e.seq", args):
        key = (row["type"], row["message_id"], row["recipient"])
        first = key not in seen
        seen.add(key)
        entry = buckets.get(_floor(row["created"], period.resolution))
        if entry is not None:
            _count(entry, row, first)
    return list(buckets.values())


def stats_json(period: Period, stats: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        **extra,
        "start": stats_time(period.start),
        "end": stats_time(period.end),
        "resolution": period.resolution,
        "stats": stats,
    }


def read_stats(
    domain: str, period: Period, tag: str | None = None
) -> Callable[[Connection], list[dict[str, Any]]]:
    return lambda conn: count_stats(conn, domain, period, tag)


@router.get("/v3/{domain:mgdomain}/stats/total")
async def domain_stats(request: Request, c: Caller = Depends(caller)) -> JSONResponse:
    period = period_of(request)
    stats = await c.sandbox.db.read(read_stats(c.domain, period))
    return mg_json(stats_json(period, stats))
