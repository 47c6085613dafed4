"""Resend's email endpoints: ``POST /emails`` (with ``Idempotency-Key``), ``POST /emails/batch``
(100 at most; ``x-batch-validation: permissive`` keeps the good ones), ``GET /emails`` and
``GET /emails/{id}``, ``PATCH /emails/{id}`` (a new ``scheduled_at``) and
``POST /emails/{id}/cancel``.

A send answers ``{"id": "<uuid>"}`` once stored; a batch ``{"data": [{"id"}...]}``. A scheduled
email is stored at once and its lifecycle (``email.sent``, delivery...) starts at its time;
rescheduling moves that, cancelling drops it (``last_event``: ``canceled``).
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from mailsandbox import mime
from mailsandbox.emulators.common.ids import new_uuid
from mailsandbox.emulators.common.storing import store_all
from mailsandbox.emulators.resend import idempotency, sending, templates_api
from mailsandbox.emulators.resend.errors import ResendError, not_found, validation
from mailsandbox.emulators.resend.event_format import last_event, meta
from mailsandbox.emulators.resend.wire import Caller, answer, authorize, body, listing, object_body
from mailsandbox.events.access import engine_of
from mailsandbox.ingest import Inbound
from mailsandbox.storage import events, messages
from mailsandbox.storage.events import DeliveryEvent
from mailsandbox.storage.messages import MessageSummary
from mailsandbox.storage.sql import Connection

MAX_BATCH = 100
BY_ID = "source = 'resend' AND json_extract(metadata_json, '$.resend.id') = ?"
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _keys(request: Request) -> idempotency.Keys:
    found: idempotency.Keys = request.app.state.sandbox.extensions[idempotency.EXTENSION]
    return found


def _inbound(caller: Caller, email: sending.Email) -> tuple[str, Inbound]:
    email_id = new_uuid()
    hostname = caller.sandbox.settings.smtp_hostname
    return email_id, sending.build(email, email_id, caller.key, hostname)


async def _idempotent(request: Request, serve: Any) -> Response:
    """Serve ``serve()`` (``(status, body)``) once per Idempotency-Key."""
    raw = await request.body()
    key = request.headers.get(idempotency.HEADER)
    # (only a key's requests are compared: without one, no hash of the body and the URL)
    fingerprint = idempotency.fingerprint(request.url.path, raw) if key is not None else ""
    async with _keys(request).guard(key, fingerprint) as slot:
        if slot.replay is not None:
            return Response(slot.replay.body, slot.replay.status, media_type="application/json")
        status, text = await serve()
        await slot.keep(status, text)
        return Response(text, status, media_type="application/json")


async def send_email(request: Request) -> Response:
    caller = authorize(request)
    data = await object_body(request)

    async def serve() -> tuple[int, str]:
        await sending.fetch_paths(data)
        await templates_api.render_into(caller.sandbox, data)
        email_id, inbound = _inbound(caller, sending.check(data))
        await store_all(caller.sandbox, [inbound])
        return 200, json.dumps({"id": email_id})

    return await _idempotent(request, serve)


def _batch_item(item: Any) -> sending.Email:
    if isinstance(item, dict):
        for name in ("attachments", "scheduled_at"):
            if item.get(name):
                raise validation(f"The `{name}` field is not supported in batch sending.")
    return sending.check(item)


async def send_batch(request: Request) -> Response:
    caller = authorize(request)
    items = await body(request)
    if not isinstance(items, list):
        raise validation("The request body must be a JSON array of emails.")
    if len(items) > MAX_BATCH:
        raise validation(f"Too many emails in the batch: at most {MAX_BATCH}.")
    permissive = request.headers.get("x-batch-validation", "strict").lower() == "permissive"

    async def serve() -> tuple[int, str]:
        checked: list[sending.Email | None] = []
        errors: list[dict[str, Any]] = []
        for index, item in enumerate(items):
            try:
                await templates_api.render_into(caller.sandbox, item)
                checked.append(_batch_item(item))
            except ResendError as exc:
                if not permissive:
                    message = f"emails[{index}]: {exc.message}"
                    raise ResendError(exc.status, exc.name, message) from None
                checked.append(None)
                errors.append({"index": index, "message": exc.message})
        built = [_inbound(caller, email) for email in checked if email is not None]
        await store_all(caller.sandbox, [inbound for _, inbound in built])
        result: dict[str, Any] = {"data": [{"id": email_id} for email_id, _ in built]}
        if permissive:
            result["errors"] = errors
        return 200, json.dumps(result)

    return await _idempotent(request, serve)


def email_json(message: MessageSummary, found: list[DeliveryEvent]) -> dict[str, Any]:
    m = meta(message)
    scheduled = m.get("scheduled_at")
    return {
        "object": "email",
        "id": m.get("id"),
        "to": m.get("to") or [],
        "from": m.get("from"),
        "created_at": sending.created_text(float(m.get("created") or message.created)),
        "subject": message.subject,
        "bcc": m.get("bcc") or [],
        "cc": m.get("cc") or [],
        "reply_to": m.get("reply_to") or [],
        "last_event": last_event(message, found),
        "scheduled_at": sending.created_text(float(scheduled)) if scheduled else None,
    }


def _find(conn: Connection, email_id: str) -> MessageSummary:
    found = messages.summaries_where(conn, BY_ID, (email_id,), limit=1)
    if not found:
        raise not_found("Email not found")
    return found[0]


def _email_id(request: Request) -> str:
    email_id = str(request.path_params["email"])
    if not _UUID.fullmatch(email_id):
        raise validation("The `id` must be a valid UUID.")
    return email_id


async def get_email(request: Request) -> Response:
    """The email with its bodies and tags, as Resend shows it."""
    caller = authorize(request)
    email_id = _email_id(request)

    def read(conn: Connection) -> tuple[dict[str, Any], list[str], bytes]:
        message = _find(conn, email_id)
        shown = email_json(message, events.for_message(conn, message.id))
        shown["tags"] = meta(message).get("tags") or []
        bodies = list(meta(message).get("bodies") or [])
        return shown, bodies, messages.get_raw(conn, message.id) or b""

    shown, bodies, raw = await caller.sandbox.db.read(read)
    content = mime.parse_message(raw)  # the writer ends each body with a line break
    html = content.html.rstrip("\r\n") if "text/html" in bodies else None
    text = content.text.rstrip("\r\n") if "text/plain" in bodies else None
    return answer({**shown, "html": html, "text": text})


async def list_emails(request: Request) -> Response:
    caller = authorize(request)

    def read(conn: Connection) -> list[dict[str, Any]]:
        found = messages.summaries_where(conn, "source = 'resend'")
        return [email_json(m, events.for_message(conn, m.id)) for m in found]

    return answer(listing(await caller.sandbox.db.read(read), request))


async def _change(request: Request, new_time: float | None, cancel: bool) -> Response:
    """Reschedule (``new_time``) or cancel a scheduled email."""
    caller = authorize(request)
    email_id = _email_id(request)
    message = await caller.sandbox.db.read(lambda conn: _find(conn, email_id))
    m = meta(message)
    scheduled = m.get("scheduled_at")
    if not scheduled or m.get("canceled") or float(scheduled) <= time.time():
        verb = "canceled" if cancel else "updated"
        raise validation(f"This email cannot be {verb} because it is not scheduled.")
    if cancel:
        changed, delta = {**m, "canceled": time.time()}, None
    else:
        when = new_time if new_time is not None else time.time()
        changed, delta = {**m, "scheduled_at": when}, when - float(scheduled)
    metadata = {**message.metadata, "resend": changed}
    await engine_of(caller.sandbox).reschedule(message.id, metadata, delta)
    return answer({"object": "email", "id": email_id})


async def update_email(request: Request) -> Response:
    data = await object_body(request)
    if "scheduled_at" not in data:
        raise validation("Missing `scheduled_at` field.")
    return await _change(request, sending.parse_schedule(data["scheduled_at"]), cancel=False)


async def cancel_email(request: Request) -> Response:
    return await _change(request, None, cancel=True)


ROUTES = [
    ("POST", "/emails", send_email),
    ("GET", "/emails", list_emails),
    ("POST", "/emails/batch", send_batch),
    ("GET", "/emails/{email}", get_email),
    ("PATCH", "/emails/{email}", update_email),
    ("POST", "/emails/{email}/cancel", cancel_email),
]
