"""``GET /v3/suppression/bounces/classifications[/{classification}]``: the sandbox's bounces per
day and classification (or, for one classification, per recipient domain), in the shapes of
the OpenAPI document ``tsg_suppressions_v3``: ``{"result": [{"date": "2022-01-01", "stats":
[{"classification" | "domain", "count"}]}]}``. ``start_date``/``end_date`` (``YYYY-MM-DD``)
bound the days; only days with bounces are listed. JSON only (no ``text/csv``).
Classifications: :mod:`.bounce_kinds`.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from mailsandbox.emulators.sendgrid import bounce_kinds
from mailsandbox.emulators.sendgrid.auth import authorize
from mailsandbox.emulators.sendgrid.errors import SendGridError, not_found
from mailsandbox.runtime import Sandbox
from mailsandbox.storage.sql import Connection

router = APIRouter(dependencies=[Depends(authorize)])
PREFIX = "/v3/suppression/bounces/classifications"
BOUNCES_SQL = (
    "SELECT created, recipient, details_json FROM events WHERE type = 'bounced'"
    " AND provider = 'sendgrid' ORDER BY created"
)


def _day(text: str, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise SendGridError.one(400, f"{name} must be a date (YYYY-MM-DD)", name) from exc


def _counts(
    conn: Connection, start: date | None, end: date | None, only: str | None
) -> dict[str, Counter[str]]:
    """day → Counter of classifications (or, with ``only``, of recipient domains)."""
    out: dict[str, Counter[str]] = {}
    for created, recipient, details in conn.execute(BOUNCES_SQL):
        day = datetime.fromtimestamp(created, UTC).date()
        if (start and day < start) or (end and day > end):
            continue
        kind = bounce_kinds.classification(json.loads(details or "{}"))
        if only is not None and kind != only:
            continue
        key = recipient.rpartition("@")[2].lower() if only is not None else kind
        out.setdefault(day.isoformat(), Counter())[key] += 1
    return out


async def _result(request: Request, only: str | None, label: str) -> JSONResponse:
    sandbox: Sandbox = request.app.state.sandbox
    q = request.query_params
    start, end = (
        _day(q.get("start_date", ""), "start_date"),
        _day(q.get("end_date", ""), "end_date"),
    )
    counts = await sandbox.db.read(lambda conn: _counts(conn, start, end, only))
    result = [
        {"date": day, "stats": [{label: k, "count": n} for k, n in sorted(found.items())]}
        for day, found in counts.items()
    ]
    return JSONResponse({"result": result})


@router.get(PREFIX)
async def bounce_classifications(request: Request) -> JSONResponse:
    return await _result(request, None, "classification")


@router.get(PREFIX + "/{classification}")
async def bounce_classification(request: Request, classification: str) -> JSONResponse:
    if classification not in bounce_kinds.CLASSIFICATIONS:
        raise not_found()
    return await _result(request, classification, "domain")
