"""SendGrid batch ids and scheduled sends: ``POST /v3/mail/batch`` (201 ``{"batch_id"}``), ``GET
/v3/mail/batch/{id}`` (200, or 400 ``invalid batch id`` for one this sandbox did not create),
and ``/v3/user/scheduled_sends`` to pause or cancel every send of a batch (OpenAPI
``tsg_mail_v3`` and ``tsg_scheduled_sends_v3``, twilio/sendgrid-oai).

The messages of a batch are stored at once, as every send is; what pausing or cancelling acts
on is their simulated delivery, which starts at ``send_at``. Pause or cancel holds it (sends
that arrive later with the same ``batch_id`` are held too); removing a pause (``DELETE``)
releases it with the delay it had left; removing a cancellation releases the messages whose
``send_at`` is still ahead and discards the others ("When a batch is canceled, all messages
associated with that batch will stay in your sending queue. When their ``send_at`` value is
reached, they will be discarded."). A status on a batch that has one already is a 400, as
documented; SendGrid's limit of 10 minutes before ``send_at`` is not enforced.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from mailsandbox.emulators.common.events import provider_meta
from mailsandbox.emulators.sendgrid import batch_store
from mailsandbox.emulators.sendgrid.auth import authorize
from mailsandbox.emulators.sendgrid.body import read_object
from mailsandbox.emulators.sendgrid.errors import SendGridError, not_found
from mailsandbox.events import schedule
from mailsandbox.events.access import engine_of
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import messages
from mailsandbox.storage.sql import Connection

router = APIRouter(dependencies=[Depends(authorize)])


def _sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def _invalid() -> SendGridError:
    return SendGridError.one(400, "invalid batch id")


@router.post("/v3/mail/batch")
async def create_batch(request: Request) -> JSONResponse:
    batch_id = await _sandbox(request).db.write(batch_store.create)
    return JSONResponse({"batch_id": batch_id}, status_code=201)


@router.get("/v3/mail/batch/{batch_id}")
async def validate_batch(request: Request, batch_id: str) -> JSONResponse:
    if not await _sandbox(request).db.read(lambda conn: batch_store.exists(conn, batch_id)):
        raise _invalid()
    return JSONResponse({"batch_id": batch_id})


def _status(body: dict[str, Any]) -> str:
    status = body.get("status")
    if status not in batch_store.STATUSES:
        raise SendGridError.one(400, "status must be either pause or cancel", "status")
    return str(status)


def _apply(conn: Connection, batch_id: str, status: str, now: float) -> float | None:
    """Set (``status``) or remove ('') the status of a batch and act on its messages'
    pending steps; returns when a released step is due."""
    ids = batch_store.message_ids(conn, batch_id)
    if status:
        batch_store.set_status(conn, batch_id, status)
        schedule.hold(conn, ids, now)
        return None
    was = batch_store.status(conn, batch_id)
    if not batch_store.clear_status(conn, batch_id):
        raise not_found()
    if was == "cancel":  # messages whose send_at has passed were discarded
        passed = [i for i in ids if _send_at(conn, i) <= now]
        schedule.discard(conn, passed)
        ids = [i for i in ids if i not in passed]
    return schedule.release(conn, ids, now)


def _send_at(conn: Connection, message_id: str) -> float:
    summary = messages.get_summary(conn, message_id)
    send_at = provider_meta(summary, "sendgrid").get("send_at") if summary else None
    return float(send_at) if isinstance(send_at, int) and not isinstance(send_at, bool) else 0.0


async def _change(request: Request, batch_id: str, status: str) -> None:
    sandbox = _sandbox(request)
    due = await sandbox.db.write(lambda conn: _apply(conn, batch_id, status, time.time()))
    engine_of(sandbox).rescheduled(due)


@router.post("/v3/user/scheduled_sends")
async def create_scheduled_send(request: Request) -> JSONResponse:
    body = await read_object(request)
    batch_id, status = body.get("batch_id"), _status(body)
    if not isinstance(batch_id, str) or not batch_id:
        raise SendGridError.one(400, "batch_id is required", "batch_id")

    def check(conn: Connection) -> str:
        if not batch_store.exists(conn, batch_id):
            raise _invalid()
        return batch_store.status(conn, batch_id)

    if await _sandbox(request).db.read(check):
        message = "a scheduled send with this batch_id has a status already: update or delete it"
        raise SendGridError.one(400, message, "batch_id")
    await _change(request, batch_id, status)
    return JSONResponse({"batch_id": batch_id, "status": status}, status_code=201)


@router.get("/v3/user/scheduled_sends")
async def list_scheduled_sends(request: Request) -> JSONResponse:
    found = await _sandbox(request).db.read(batch_store.statuses)
    return JSONResponse([{"batch_id": b, "status": s} for b, s in found])


@router.get("/v3/user/scheduled_sends/{batch_id}")
async def get_scheduled_send(request: Request, batch_id: str) -> JSONResponse:
    status = await _sandbox(request).db.read(lambda conn: batch_store.status(conn, batch_id))
    if not status:
        raise not_found()
    return JSONResponse([{"batch_id": batch_id, "status": status}])


@router.patch("/v3/user/scheduled_sends/{batch_id}")
async def update_scheduled_send(request: Request, batch_id: str) -> Response:
    status = _status(await read_object(request))
    if not await _sandbox(request).db.read(lambda conn: batch_store.status(conn, batch_id)):
        raise not_found()
    await _change(request, batch_id, status)
    return Response(status_code=204)


@router.delete("/v3/user/scheduled_sends/{batch_id}")
async def delete_scheduled_send(request: Request, batch_id: str) -> Response:
    await _change(request, batch_id, "")
    return Response(status_code=204)
