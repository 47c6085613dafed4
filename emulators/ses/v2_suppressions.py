"""The SES account-level suppression list (v2): ``PutSuppressedDestination``,
``GetSuppressedDestination``, ``ListSuppressedDestinations``, ``DeleteSuppressedDestination``.

Entries live in the shared suppression table, scope ``ses``, kinds ``bounce`` and
``complaint`` (reasons ``BOUNCE`` and ``COMPLAINT``): the event engine adds hard bounces and
complaints there and drops later sends to them, which SES reports as a Bounce (or Complaint)
event of subtype ``OnAccountSuppressionList``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mailsandbox.emulators.common.events import provider_meta
from mailsandbox.emulators.ses.errors import BAD_REQUEST, NOT_FOUND, SesError
from mailsandbox.emulators.ses.paging import page
from mailsandbox.emulators.ses.sigv4 import authorize
from mailsandbox.emulators.ses.v2_common import answer, caller_and_body, required
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import messages
from mailsandbox.storage import suppressions as store
from mailsandbox.storage.sql import Connection

router = APIRouter()
SCOPE = "ses"
KINDS = {"BOUNCE": "bounce", "COMPLAINT": "complaint"}
REASONS = {kind: reason for reason, kind in KINDS.items()}


def _summary(item: store.Suppression) -> dict[str, Any]:
    return {
        "EmailAddress": item.email,
        "Reason": REASONS[item.kind],
        "LastUpdateTime": item.created,
    }


def _find(conn: Connection, email: str) -> store.Suppression | None:
    found = [store.get(conn, kind, email, SCOPE) for kind in KINDS.values()]
    present = [f for f in found if f is not None]
    return max(present, key=lambda f: f.created) if present else None


def _epoch(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError as exc:
            raise SesError(BAD_REQUEST, f"Invalid date: {value}") from exc


@router.put("/v2/email/suppression/addresses")
async def put_destination(request: Request) -> Response:
    _, data = await caller_and_body(request)
    sandbox: Sandbox = request.app.state.sandbox
    email = str(required(data, "EmailAddress"))
    reason = str(required(data, "Reason"))
    if reason not in KINDS:
        raise SesError(BAD_REQUEST, f"Invalid reason {reason}: BOUNCE or COMPLAINT.")

    def write(conn: Connection) -> None:
        for kind in KINDS.values():  # one entry per address: the newest reason
            store.remove(conn, kind, email, SCOPE)
        store.add(conn, store.Suppression(KINDS[reason], email, SCOPE))

    await sandbox.db.write(write)
    return answer()


@router.get("/v2/email/suppression/addresses/{email}")
async def get_destination(request: Request, email: str) -> Response:
    authorize(request)
    sandbox: Sandbox = request.app.state.sandbox

    def read(conn: Connection) -> tuple[store.Suppression | None, str]:
        found = _find(conn, email)
        stored = str((found.details if found else {}).get("message_id") or "")
        summary = messages.get_summary(conn, stored) if stored else None
        meta = provider_meta(summary, "ses") if summary else {}
        return found, str(meta.get("message_id", ""))

    found, message_id = await sandbox.db.read(read)
    if found is None:
        raise SesError(NOT_FOUND, f"Email address {email} does not exist on your suppression list.")
    entry = _summary(found)
    attributes = {"MessageId": message_id, "FeedbackId": str(found.details.get("event_id", ""))}
    entry["Attributes"] = {k: v for k, v in attributes.items() if v}
    return answer({"SuppressedDestination": entry})


@router.get("/v2/email/suppression/addresses")
async def list_destinations(request: Request) -> Response:
    authorize(request)
    sandbox: Sandbox = request.app.state.sandbox
    query = request.query_params
    reasons = query.getlist("Reason") or list(KINDS)
    if any(r not in KINDS for r in reasons):
        raise SesError(BAD_REQUEST, "Reason must be BOUNCE or COMPLAINT.")
    start, end = _epoch(query.get("StartDate")), _epoch(query.get("EndDate"))
    after, size = page(query.get("NextToken"), query.get("PageSize"))

    def read(conn: Connection) -> list[store.Suppression]:
        items = [
            entry
            for reason in reasons
            for entry in store.list_entries(
                conn, KINDS[reason], SCOPE, limit=100_000, start_time=start, end_time=end
            )
        ]
        return sorted((i for i in items if i.email > after), key=lambda i: i.email)

    items = await sandbox.db.read(read)
    out: dict[str, Any] = {"SuppressedDestinationSummaries": [_summary(i) for i in items[:size]]}
    if len(items) > size:
        out["NextToken"] = items[size - 1].email
    return answer(out)


@router.delete("/v2/email/suppression/addresses/{email}")
async def delete_destination(request: Request, email: str) -> Response:
    authorize(request)
    sandbox: Sandbox = request.app.state.sandbox

    def write(conn: Connection) -> bool:
        return any([store.remove(conn, kind, email, SCOPE) for kind in KINDS.values()])

    if not await sandbox.db.write(write):
        raise SesError(NOT_FOUND, f"Email address {email} does not exist on your suppression list.")
    return answer()
