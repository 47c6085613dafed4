"""``POST /v1/analytics/logs``: the account's Mailgun events, filtered and paged, in the Logs
API's shape (documentation.mailgun.com, API reference "Logs": "List logs"; mailgun.js
``logs.list``, which its ``events.get`` deprecation warning points to).

Request (JSON): ``start``/``end`` (RFC 2822 or epoch; default the last day), ``duration``
(``1d``, ``2h``: overrides ``start``), ``events`` and ``metric_events`` (names), ``filter``
``{"AND": [{"attribute", "comparator", "values": [{"label", "value"}]}]}`` with attributes
``domain``, ``recipient``, ``tags``, ``message-id``, ``subject``, ``from``, ``to``, ``event`` and
comparators ``=``, ``!=``, ``contains``, ``not contains``, ``include_totals``, and
``pagination`` ``{"sort": "timestamp:asc|desc", "limit", "token"}``.

Answer: ``{"start", "end", "items", "pagination": {"first", "next"?, "previous"?, "total"?},
"aggregates": {"all", "metrics"}}``. An item is the Events API item with ``@timestamp`` (ISO
8601) for ``timestamp``, ``domain: {"name"}``, ``account: {"id"}``, ``user-variables`` as a
JSON string and ``storage.url`` as a list, as mailgun.js's ``LogsEvent`` type has them.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from mailsandbox.emulators.common.events import iso_ms
from mailsandbox.emulators.mailgun.auth import base_url, caller
from mailsandbox.emulators.mailgun.errors import bad_request, mg_json
from mailsandbox.emulators.mailgun.event_format import mailgun_event
from mailsandbox.emulators.mailgun.event_query import EVENT_SQL, SEVERITY_SQL, parse_time
from mailsandbox.storage import events, messages
from mailsandbox.storage.sql import Connection

router = APIRouter()
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000  # [unverified]: the reference gives no numbers
_FIRST_OPEN = (
    "NOT EXISTS (SELECT 1 FROM events p WHERE p.message_id = events.message_id"
    " AND p.recipient = events.recipient AND p.type = events.type AND p.seq < events.seq)"
)
# names of ``events`` / ``metric_events`` → SQL over ``events``; other documented names
# (email_validation, list_uploaded, trapped...) are things a sandbox never has
NAME_SQL: dict[str, str] = {
    **EVENT_SQL,
    "unique_opened": f"(type = 'opened' AND {_FIRST_OPEN})",
    "unique_clicked": f"(type = 'clicked' AND {_FIRST_OPEN})",
    "accepted_outgoing": EVENT_SQL["accepted"],
    "delivered_smtp": EVENT_SQL["delivered"],
    "permanent_failed": SEVERITY_SQL["permanent"],
    "temporary_failed": SEVERITY_SQL["temporary"],
}
NEVER = (
    "email_validation",
    "list_uploaded",
    "list_member_uploaded",
    "list_member_upload_error",
    "trapped",
    "accepted_incoming",
    "delivered_http",
    "delivered_optimized",
    "processed",
    "sent",
    "esp_block",
    "temporary_failed_esp_block",
    "permanent_failed_esp_block",
    "webhook_failure",
)
MAILGUN_MESSAGES = "SELECT id FROM messages WHERE json_extract(metadata_json, '$.mailgun.domain')"
ATTRIBUTES: dict[str, str] = {  # filter attribute → SQL value expression
    "domain": "(SELECT json_extract(metadata_json, '$.mailgun.domain') FROM messages m"
    " WHERE m.id = events.message_id)",
    "recipient": "recipient",
    "message-id": "(SELECT message_id FROM messages m WHERE m.id = events.message_id)",
    "subject": "(SELECT subject FROM messages m WHERE m.id = events.message_id)",
    "from": "(SELECT from_json FROM messages m WHERE m.id = events.message_id)",
    "to": "(SELECT to_json FROM messages m WHERE m.id = events.message_id)",
}
TAGS_SQL = (
    "EXISTS (SELECT 1 FROM messages m, json_each(m.metadata_json, '$.mailgun.tags') t"
    " WHERE m.id = events.message_id AND {test})"
)


@dataclass
class LogQuery:
    start: float
    end: float
    where: list[str] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)
    ascending: bool = False
    limit: int = DEFAULT_LIMIT
    cursor: int | None = None
    backwards: bool = False  # the page before ``cursor``
    totals: bool = False


def _names_sql(names: Any, what: str) -> str | None:
    if names is None:
        return None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise bad_request(f"'{what}' must be a list of strings")
    unknown = [n for n in names if n not in NAME_SQL and n not in NEVER]
    if unknown:
        raise bad_request(f"Invalid event type: {unknown[0]}")
    found = [NAME_SQL[n] for n in names if n in NAME_SQL]
    return "(" + " OR ".join(found) + ")" if found else "0"


def _condition(item: Any) -> tuple[str, list[Any]]:
    if not isinstance(item, dict):
        raise bad_request("Each filter condition must be an object")
    attribute, comparator = item.get("attribute"), str(item.get("comparator", "")).lower()
    values = [v.get("value") for v in item.get("values") or [] if isinstance(v, dict)]
    values = [str(v) for v in values if v is not None]
    if not values:
        raise bad_request(f"Filter on {attribute!r} has no values")
    negate = comparator in ("!=", "not contains")
    if comparator in ("=", "!="):
        test, args = "{x} IN (" + ",".join("?" * len(values)) + ")", values
    elif comparator in ("contains", "not contains"):
        test, args = (
            "(" + " OR ".join(["{x} LIKE ?"] * len(values)) + ")",
            [f"%{v}%" for v in values],
        )
    else:
        raise bad_request(f"Unsupported comparator: {comparator}")
    if attribute == "event":
        sql = _names_sql(values, "values") or "0"
        if comparator in ("contains", "not contains"):
            raise bad_request("Unsupported comparator for event: " + comparator)
        return (f"NOT {sql}" if negate else sql), []
    if attribute in ("tags", "tag"):
        sql = TAGS_SQL.format(test=test.format(x="t.value"))
    elif attribute in ATTRIBUTES:
        sql = test.format(x=ATTRIBUTES[attribute])
    else:
        raise bad_request(f"Unsupported filter attribute: {attribute}")
    return (f"NOT {sql}" if negate else sql), args


def _token(cursor: int | None, backwards: bool) -> str:
    """A page token: continue after (or before, ``backwards``) the event ``cursor``."""
    raw = json.dumps([cursor, backwards]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _from_token(token: str) -> tuple[int | None, bool]:
    try:
        cursor, backwards = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if cursor is not None and not isinstance(cursor, int):
            raise TypeError("cursor")
        return cursor, bool(backwards)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise bad_request(f"Invalid pagination token: {token}") from exc


def parse_query(body: dict[str, Any]) -> LogQuery:
    end = parse_time(str(body.get("end") or ""), "end") or time.time()
    start = parse_time(str(body.get("start") or ""), "start") or end - 86400
    duration = str(body.get("duration") or "")
    if duration:
        number, unit = duration[:-1], duration[-1:]
        if not number.isdigit() or unit not in ("m", "h", "d"):
            raise bad_request(f"Invalid duration: {duration}")
        start = end - int(number) * {"m": 60, "h": 3600, "d": 86400}[unit]
    query = LogQuery(start, end, totals=bool(body.get("include_totals")))
    for key in ("events", "metric_events"):
        sql = _names_sql(body.get(key), key)
        if sql is not None:
            query.where.append(sql)
    conditions = body.get("filter")
    if conditions is not None:
        if not isinstance(conditions, dict) or not isinstance(conditions.get("AND"), list):
            raise bad_request("Logs filter must have an AND operator with a list of conditions")
        for item in conditions["AND"]:
            sql, args = _condition(item)
            query.where.append(sql)
            query.args += args
    paging = body.get("pagination") or {}
    if not isinstance(paging, dict):
        raise bad_request("'pagination' must be an object")
    sort = str(paging.get("sort") or "timestamp:desc")
    if sort not in ("timestamp:asc", "timestamp:desc"):
        raise bad_request(f"Invalid sort: {sort}")
    query.ascending = sort == "timestamp:asc"
    limit = paging.get("limit", DEFAULT_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise bad_request(f"Invalid limit: {limit}")
    query.limit = min(limit, MAX_LIMIT)
    if paging.get("token"):
        query.cursor, query.backwards = _from_token(str(paging["token"]))
    return query


def log_item(item: dict[str, Any]) -> dict[str, Any]:
    """An Events API item in the Logs API's shape."""
    out = {"id": item["id"], "event": item["event"], "@timestamp": iso_ms(item["timestamp"])}
    out.update((k, v) for k, v in item.items() if k not in ("id", "event", "timestamp"))
    out["account"] = {"id": "mailsandbox"}
    out["user-variables"] = json.dumps(item.get("user-variables") or {})
    if "storage" in item:
        out["storage"] = {**item["storage"], "url": [item["storage"]["url"]]}
    return out


def _read(query: LogQuery, base: str) -> Any:
    where = " AND ".join([f"message_id IN ({MAILGUN_MESSAGES} IS NOT NULL)", *query.where])

    def read(conn: Connection) -> tuple[list[dict[str, Any]], int, bool]:
        direction = query.ascending != query.backwards
        rows = events.query(
            conn,
            begin=query.start,
            end=query.end,
            after_seq=query.cursor,
            ascending=direction,
            limit=query.limit + 1,
            extra_where=where,
            extra_args=tuple(query.args),
        )
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        if query.backwards:
            rows.reverse()
        total = conn.execute(
            "SELECT COUNT(*) FROM events WHERE created >= ? AND created <= ? AND " + where,
            [query.start, query.end, *query.args],
        ).fetchone()[0]
        cache: dict[str, messages.MessageSummary | None] = {}
        items = []
        for row in rows:
            if row.message_id not in cache:
                cache[row.message_id] = messages.get_summary(conn, row.message_id)
            summary = cache[row.message_id]
            item = mailgun_event(row, summary, base) if summary else None
            if item is not None and summary is not None:
                domain = summary.metadata["mailgun"]["domain"]
                items.append({"_seq": row.seq, **log_item(item), "domain": {"name": domain}})
        return items, int(total), more

    return read


@router.post("/v1/analytics/logs")
async def list_logs(request: Request) -> JSONResponse:
    c = await caller(request)
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError as exc:
        raise bad_request("Invalid JSON body") from exc
    if not isinstance(body, dict):
        raise bad_request("Invalid JSON body")
    query = parse_query(body)
    items, total, more = await c.sandbox.db.read(_read(query, base_url(request)))
    seqs = [item.pop("_seq") for item in items]
    pagination: dict[str, Any] = {"first": _token(None, False)}
    # walking forward, ``more`` says whether a next page exists; walking back, a previous one
    later = more if not query.backwards else query.cursor is not None
    earlier = more if query.backwards else query.cursor is not None
    if seqs and later:
        pagination["next"] = _token(seqs[-1], False)
    if seqs and earlier:
        pagination["previous"] = _token(seqs[0], True)
    if query.totals:
        pagination["total"] = total
    out = {
        "start": formatdate(query.start),
        "end": formatdate(query.end),
        "items": items,
        "pagination": pagination,
        "aggregates": {"all": total, "metrics": {}},
    }
    return mg_json(out)
