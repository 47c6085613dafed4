"""Postmark message streams and their suppression lists.

Every server has the default streams ``outbound`` (Transactional), ``broadcast`` (Broadcasts)
and ``inbound``; more can be created, edited, archived and unarchived through
``/message-streams``. The streams live in a table and, for the send path (which checks the
stream of every message), in memory (:class:`~.stream_store.Streams`, kept in
``sandbox.extensions``).

Each stream has its own suppression list (Postmark: "suppressions are per message stream"):
the shared suppression table with ``scope`` = the stream's ID, kinds ``bounce`` (Postmark's
``HardBounce``), ``spam_report`` (``SpamComplaint``) and ``unsubscribe``
(``ManualSuppression``). ``/message-streams/{id}/suppressions`` dumps, adds and deletes them
(wire shapes from the postmark.js client's ``Suppression`` models).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from mailsandbox.emulators.common.addresses import valid_address
from mailsandbox.emulators.postmark.errors import (
    DUPLICATE_STREAM,
    INVALID_STREAM_ID,
    INVALID_STREAM_TYPE,
    PostmarkError,
)
from mailsandbox.emulators.postmark.sending import submitted_at
from mailsandbox.emulators.postmark.stream_store import EXTENSION, Stream, Streams
from mailsandbox.emulators.postmark.wire import answer, authorize, body
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import suppressions as store
from mailsandbox.storage.sql import Connection

SERVER_ID = 1
TYPES = ("Transactional", "Broadcasts", "Inbound")
SENDING_TYPES = ("Transactional", "Broadcasts")
# shared suppression kind ↔ Postmark's SuppressionReason
REASONS = {
    "bounce": "HardBounce",
    "spam_report": "SpamComplaint",
    "unsubscribe": "ManualSuppression",
}
KINDS = {reason: kind for kind, reason in REASONS.items()}
MAX_SUPPRESSIONS = 50
PURGE_AFTER = 45 * 86400  # an archived stream is purged after 45 days


def stream_json(s: Stream) -> dict[str, Any]:
    return {
        "ID": s.id,
        "ServerID": SERVER_ID,
        "Name": s.name,
        "Description": s.description,
        "MessageStreamType": s.type,
        "CreatedAt": submitted_at(s.created),
        "UpdatedAt": submitted_at(s.updated) if s.updated else None,
        "ArchivedAt": submitted_at(s.archived) if s.archived else None,
        "ExpectedPurgeDate": submitted_at(s.archived + 45 * 86400) if s.archived else None,
        "SubscriptionManagementConfiguration": {"UnsubscribeHandlingType": s.unsubscribe_handling},
    }


def streams_of(request: Request) -> Streams:
    found: Streams = request.app.state.sandbox.extensions[EXTENSION]
    return found


# --- /message-streams ----------------------------------------------------------------------
def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() == "true"


async def list_streams(request: Request) -> Response:
    authorize(request)
    kind = request.query_params.get("MessageStreamType", "All")
    archived = _flag(request, "IncludeArchivedStreams")
    found = [
        stream_json(s)
        for s in streams_of(request).by_id.values()
        if (kind in ("All", "") or s.type == kind) and (archived or not s.archived)
    ]
    return answer({"MessageStreams": found, "TotalCount": len(found)})


async def get_stream(request: Request) -> Response:
    authorize(request)
    return answer(stream_json(streams_of(request).get(request.path_params["stream"])))


def _handling(data: dict[str, Any], default: str) -> str:
    config = data.get("SubscriptionManagementConfiguration") or {}
    value = config.get("UnsubscribeHandlingType", default) if isinstance(config, dict) else default
    if value not in ("None", "Postmark", "Custom"):
        raise PostmarkError(
            INVALID_STREAM_TYPE, "UnsubscribeHandlingType must be None, Postmark or Custom."
        )
    return str(value)


async def create_stream(request: Request) -> Response:
    authorize(request)
    data = await body(request)
    data = data if isinstance(data, dict) else {}
    streams = streams_of(request)
    stream_id = str(data.get("ID") or "").strip()
    if not stream_id or not stream_id[0].isalpha() or stream_id.startswith("pm-"):
        raise PostmarkError(INVALID_STREAM_ID, "The message stream ID is invalid.")
    if stream_id in streams.by_id:
        raise PostmarkError(DUPLICATE_STREAM, f"A message stream with ID '{stream_id}' exists.")
    kind = str(data.get("MessageStreamType") or "")
    if kind not in SENDING_TYPES:
        raise PostmarkError(
            INVALID_STREAM_TYPE, "MessageStreamType must be Transactional or Broadcasts."
        )
    stream = Stream(
        stream_id,
        str(data.get("Name") or stream_id),
        str(data.get("Description") or ""),
        kind,
        _handling(data, "Postmark" if kind == "Broadcasts" else "None"),
        time.time(),
    )
    return answer(stream_json(await streams.save(stream)))


async def edit_stream(request: Request) -> Response:
    authorize(request)
    streams = streams_of(request)
    stream = streams.get(request.path_params["stream"])
    data = await body(request)
    data = data if isinstance(data, dict) else {}
    changed = replace(
        stream,
        name=str(data.get("Name") or stream.name),
        description=str(data.get("Description", stream.description) or ""),
        unsubscribe_handling=_handling(data, stream.unsubscribe_handling),
        updated=time.time(),
    )
    return answer(stream_json(await streams.save(changed)))


async def archive_stream(request: Request) -> Response:
    authorize(request)
    streams = streams_of(request)
    stream = streams.get(request.path_params["stream"])
    if stream.id in ("outbound", "inbound"):
        raise PostmarkError(1229, "Default transactional and inbound streams cannot be archived.")
    saved = await streams.save(replace(stream, archived=time.time()))
    body_ = stream_json(saved)
    return answer({"ID": saved.id, "ServerID": SERVER_ID, "ExpectedPurgeDate": body_[
        "ExpectedPurgeDate"]})  # fmt: skip


async def unarchive_stream(request: Request) -> Response:
    authorize(request)
    streams = streams_of(request)
    stream = streams.get(request.path_params["stream"])
    return answer(stream_json(await streams.save(replace(stream, archived=0.0))))


# --- suppressions ------------------------------------------------------------------------
def suppression_json(item: store.Suppression) -> dict[str, Any]:
    origin = item.details.get("origin") or "Recipient"
    return {
        "EmailAddress": item.email,
        "SuppressionReason": REASONS.get(item.kind, "ManualSuppression"),
        "Origin": origin,
        "CreatedAt": submitted_at(item.created),
    }


async def dump_suppressions(request: Request) -> Response:
    caller = authorize(request)
    stream = streams_of(request).get(request.path_params["stream"]).id
    q = request.query_params
    reason, origin, email = q.get("SuppressionReason"), q.get("Origin"), q.get("EmailAddress")

    def read(conn: Connection) -> list[store.Suppression]:
        kinds = [KINDS[reason]] if reason in KINDS else list(REASONS)
        return [
            item
            for kind in kinds
            for item in store.list_entries(conn, kind, stream, limit=-1, email_contains=email)
        ]

    items = sorted(await caller.sandbox.db.read(read), key=lambda i: i.created, reverse=True)
    found = [suppression_json(i) for i in items]
    if origin:
        found = [f for f in found if f["Origin"] == origin]
    return answer({"Suppressions": found})


def _entries(data: Any) -> list[str]:
    items = data.get("Suppressions") if isinstance(data, dict) else None
    if not isinstance(items, list) or len(items) > MAX_SUPPRESSIONS:
        raise PostmarkError(403, "Provide 'Suppressions': a list of at most 50 {EmailAddress}.")
    return [str(i.get("EmailAddress", "")) if isinstance(i, dict) else "" for i in items]


def _each(emails: list[str], act: Callable[[str], dict[str, Any]]) -> list[dict[str, Any]]:
    """Postmark's per-address statuses: ``act(email)`` for each valid address."""
    invalid = "An invalid email address was provided."
    return [act(e) if valid_address(e) else _status(e, "Failed", invalid) for e in emails]


async def add_suppressions(request: Request) -> Response:
    caller = authorize(request)
    stream = streams_of(request).get(request.path_params["stream"]).id
    emails = _entries(await body(request))

    def write(conn: Connection) -> list[dict[str, Any]]:
        def add(email: str) -> dict[str, Any]:
            details = {"origin": "Customer"}
            store.add(conn, store.Suppression("unsubscribe", email, stream, details=details))
            return _status(email, "Suppressed")

        return _each(emails, add)

    return answer({"Suppressions": await caller.sandbox.db.write(write)})


async def delete_suppressions(request: Request) -> Response:
    caller = authorize(request)
    stream = streams_of(request).get(request.path_params["stream"]).id
    emails = _entries(await body(request))

    def write(conn: Connection) -> list[dict[str, Any]]:
        def delete(email: str) -> dict[str, Any]:
            if store.get(conn, "spam_report", email, stream) is not None:
                return _status(email, "Failed", "Spam complaint suppressions cannot be deleted.")
            for kind in ("bounce", "unsubscribe"):
                store.remove(conn, kind, email, stream)
            return _status(email, "Deleted")

        return _each(emails, delete)

    return answer({"Suppressions": await caller.sandbox.db.write(write)})


def _status(email: str, status: str, message: str | None = None) -> dict[str, Any]:
    return {"EmailAddress": email, "Status": status, "Message": message}


def inactive_among(sandbox: Sandbox, stream: str, recipients: list[str]) -> list[str]:
    """The recipients on the stream's suppression list, lower-cased as Postmark reports them.

    Read on the event loop's thread (``read_sync``): one small query, cheaper than the hop to
    a reader thread that every send would otherwise pay."""

    def read(conn: Connection) -> list[str]:
        return [r.lower() for r in recipients if store.suppressed_kinds(conn, r, (stream,))]

    return sandbox.db.read_sync(read)


ROUTES = [
    ("GET", "/message-streams", list_streams),
    ("POST", "/message-streams", create_stream),
    ("GET", "/message-streams/{stream}", get_stream),
    ("PATCH", "/message-streams/{stream}", edit_stream),
    ("POST", "/message-streams/{stream}/archive", archive_stream),
    ("POST", "/message-streams/{stream}/unarchive", unarchive_stream),
    ("GET", "/message-streams/{stream}/suppressions/dump", dump_suppressions),
    ("POST", "/message-streams/{stream}/suppressions", add_suppressions),
    ("POST", "/message-streams/{stream}/suppressions/delete", delete_suppressions),
]
