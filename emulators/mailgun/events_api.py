"""``GET /v3/{domain}/events`` and ``/v3/{domain}/events/{token}``: the domain's delivery
events in Mailgun's item shape, with absolute paging URLs whose last path segment is the page
token (mailgun.js splits on ``/``). The same token is also accepted as ``?page=`` so the Python
SDK's ``events.stream()`` (which re-reads query parameters) walks the pages too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from mailsandbox.emulators.mailgun.auth import Caller, base_url, caller
from mailsandbox.emulators.mailgun.errors import bad_request, mg_json
from mailsandbox.emulators.mailgun.event_format import mailgun_event
from mailsandbox.emulators.mailgun.event_query import FILTERS, Query, parse_time, where_clause
from mailsandbox.emulators.mailgun.forms import boolean, int_param
from mailsandbox.storage import events, messages
from mailsandbox.storage.sql import Connection

router = APIRouter()
MAX_LIMIT = 300


def _query_from_params(request: Request, domain: str) -> Query:
    q = request.query_params
    begin, end = parse_time(q.get("begin", ""), "begin"), parse_time(q.get("end", ""), "end")
    if "ascending" in q:
        ascending = boolean(q["ascending"], "ascending")
    else:  # Mailgun infers the direction from the range when both ends are given
        ascending = begin is not None and end is not None and begin < end
    if begin is not None and end is not None and begin > end:
        begin, end = end, begin
    filters = {k: q[k] for k in FILTERS if q.get(k)}
    limit = int_param(q.get("limit"), "limit", 100, MAX_LIMIT)
    return Query(domain, filters, begin, end, ascending, limit)


def _reader(query: Query, base: str, dialect: str) -> Callable[[Connection], list[dict[str, Any]]]:
    """A read job returning the page's items, each with its ``_seq`` (for cursors)."""
    where, args = where_clause(query, dialect)
    direction = query.ascending != query.reverse

    def read(conn: Connection) -> list[dict[str, Any]]:
        rows = events.query(
            conn,
            begin=query.begin,
            end=query.end,
            after_seq=query.cursor,
            ascending=direction,
            limit=query.limit,
            extra_where=where,
            extra_args=tuple(args),
        )
        if query.reverse:
            rows.reverse()
        cache: dict[str, messages.MessageSummary | None] = {}
        items = []
        for row in rows:
            if row.message_id not in cache:
                cache[row.message_id] = messages.get_summary(conn, row.message_id)
            summary = cache[row.message_id]
            item = mailgun_event(row, summary, base) if summary else None
            if item is not None:
                items.append({"_seq": row.seq, **item})
        return items

    return read


async def _page(request: Request, c: Caller, query: Query) -> JSONResponse:
    base = base_url(request)
    items = await c.sandbox.db.read(_reader(query, base, c.sandbox.db.dialect))
    seqs = [item.pop("_seq") for item in items]
    url = f"{base}/v3/{c.domain}/events"
    first = replace(query, cursor=None, reverse=False)
    last = replace(query, cursor=None, reverse=True)
    nxt = replace(query, cursor=seqs[-1] if seqs else query.cursor, reverse=False)
    if not seqs and query.reverse:
        nxt = replace(query, reverse=False)
    prev = replace(query, cursor=seqs[0] if seqs else query.cursor, reverse=True)

    def link(page: Query) -> str:
        token = page.token()
        return f"{url}/{token}?page={token}"

    paging = {"first": link(first), "last": link(last), "next": link(nxt), "previous": link(prev)}
    return mg_json({"items": items, "paging": paging})


@router.get("/v3/{domain:mgdomain}/events")
async def list_events(request: Request, c: Caller = Depends(caller)) -> JSONResponse:
    token = request.query_params.get("page")
    if token:
        return await _page(request, c, Query.from_token(token, c.domain))
    return await _page(request, c, _query_from_params(request, c.domain))


@router.get("/v3/{domain:mgdomain}/events/{token}")
async def events_page(token: str, request: Request, c: Caller = Depends(caller)) -> JSONResponse:
    if not token:
        raise bad_request("Invalid page token")
    return await _page(request, c, Query.from_token(token, c.domain))
