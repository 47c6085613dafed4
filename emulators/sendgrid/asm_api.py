"""SendGrid unsubscribe groups: ``/v3/asm/groups`` (CRUD), a group's suppressions
``/v3/asm/groups/{id}/suppressions`` (add, list, remove, search) and ``/v3/asm/suppressions``
(every group suppression; one address's groups), in the shapes of the OpenAPI document
``tsg_suppressions_v3`` (twilio/sendgrid-oai): 201 for a created group and for PATCH, 204 for
deletes.

A send with ``asm.group_id`` to an address unsubscribed from that group is dropped ("Unsubscribed
Address"); unsubscribing from such a send adds the address to the group (a ``group_unsubscribe``
event, not a global unsubscribe), and removing it from the group records a
``group_resubscribe`` event on the message it had unsubscribed from (an address added through
this API has no such message, so its removal sends no event).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from mailsandbox.emulators.sendgrid import asm_store
from mailsandbox.emulators.sendgrid.asm_store import KIND, Group, scope
from mailsandbox.emulators.sendgrid.auth import authorize
from mailsandbox.emulators.sendgrid.body import read_object
from mailsandbox.emulators.sendgrid.checks import valid_email
from mailsandbox.emulators.sendgrid.errors import SendGridError, not_found
from mailsandbox.events.access import engine_of
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import messages, suppressions
from mailsandbox.storage.events import DeliveryEvent
from mailsandbox.storage.sql import Connection

router = APIRouter(dependencies=[Depends(authorize)])
MAX_NAME, MAX_DESCRIPTION = 30, 100


def _sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def group_json(group: Group, *, counts: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": group.id,
        "name": group.name,
        "description": group.description,
        "is_default": group.is_default,
    }
    if counts:
        out["unsubscribes"] = group.unsubscribes
    return out


def _fields(body: dict[str, Any], group: Group) -> Group:
    """``group`` with the name/description/is_default of a create or PATCH body."""
    name, description = body.get("name", group.name), body.get("description", group.description)
    default = body.get("is_default", group.is_default)
    if not isinstance(name, str) or not name.strip():
        raise SendGridError.one(400, "name is required", "name")
    if len(name) > MAX_NAME:
        raise SendGridError.one(400, f"name must be at most {MAX_NAME} characters", "name")
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        message = f"description must be a string of at most {MAX_DESCRIPTION} characters"
        raise SendGridError.one(400, message, "description")
    if not isinstance(default, bool):
        raise SendGridError.one(400, "is_default must be a boolean", "is_default")
    return Group(group.id, name, description, default, group.unsubscribes)


async def _group(request: Request, group_id: str) -> Group:
    """The group a path names (404 for an unknown or malformed id)."""
    number = int(group_id) if group_id.isdigit() else 0
    found = await _sandbox(request).db.read(lambda conn: asm_store.get(conn, number))
    if found is None:
        raise not_found()
    return found


@router.post("/v3/asm/groups")
async def create_group(request: Request) -> JSONResponse:
    group = _fields(await read_object(request), Group(0, "", "", False))
    saved = await _sandbox(request).db.write(lambda conn: asm_store.save(conn, group))
    return JSONResponse(group_json(saved, counts=False), status_code=201)


@router.get("/v3/asm/groups")
async def list_groups(request: Request) -> JSONResponse:
    wanted = {int(i) for i in request.query_params.getlist("id") if i.isdigit()}
    found = await _sandbox(request).db.read(asm_store.groups)
    return JSONResponse([group_json(g) for g in found if not wanted or g.id in wanted])


@router.get("/v3/asm/groups/{group_id}")
async def get_group(request: Request, group_id: str) -> JSONResponse:
    return JSONResponse(group_json(await _group(request, group_id)))


@router.patch("/v3/asm/groups/{group_id}")
async def update_group(request: Request, group_id: str) -> JSONResponse:
    group = _fields(await read_object(request), await _group(request, group_id))
    saved = await _sandbox(request).db.write(lambda conn: asm_store.save(conn, group))
    return JSONResponse(group_json(saved, counts=False), status_code=201)


@router.delete("/v3/asm/groups/{group_id}")
async def delete_group(request: Request, group_id: str) -> Response:
    group = await _group(request, group_id)
    await _sandbox(request).db.write(lambda conn: asm_store.delete(conn, group.id))
    return Response(status_code=204)


def _emails(body: dict[str, Any]) -> list[str]:
    emails = body.get("recipient_emails")
    if not isinstance(emails, list) or not emails:
        raise SendGridError.one(400, "recipient_emails is required", "recipient_emails")
    for n, email in enumerate(emails):
        if not valid_email(email):
            message = "Does not contain a valid address."
            raise SendGridError.one(400, message, f"recipient_emails.{n}")
    return [str(e) for e in emails]


@router.post("/v3/asm/groups/{group_id}/suppressions")
async def add_to_group(request: Request, group_id: str) -> JSONResponse:
    group = await _group(request, group_id)
    emails = _emails(await read_object(request))

    def write(conn: Connection) -> None:
        for email in emails:
            suppressions.add(conn, suppressions.Suppression(KIND, email, scope(group.id)))

    await _sandbox(request).db.write(write)
    return JSONResponse({"recipient_emails": emails}, status_code=201)


@router.get("/v3/asm/groups/{group_id}/suppressions")
async def list_group(request: Request, group_id: str) -> JSONResponse:
    group = await _group(request, group_id)
    found = await _sandbox(request).db.read(lambda conn: asm_store.unsubscribed(conn, group.id))
    return JSONResponse([s.email for s in found])


@router.post("/v3/asm/groups/{group_id}/suppressions/search")
async def search_group(request: Request, group_id: str) -> JSONResponse:
    group = await _group(request, group_id)
    emails = _emails(await read_object(request))

    def read(conn: Connection) -> list[str]:
        return [e for e in emails if suppressions.get(conn, KIND, e, scope(group.id))]

    return JSONResponse(await _sandbox(request).db.read(read))


@router.delete("/v3/asm/groups/{group_id}/suppressions/{email}")
async def remove_from_group(request: Request, group_id: str, email: str) -> Response:
    """Remove an address from a group; if it unsubscribed from a message, that message gets
    a ``group_resubscribe`` event."""
    where = scope((await _group(request, group_id)).id)
    sandbox = _sandbox(request)
    engine = engine_of(sandbox)

    def write(conn: Connection) -> DeliveryEvent | None:
        entry = suppressions.get(conn, KIND, email, where)
        if entry is None or not suppressions.remove(conn, KIND, email, where):
            return None
        summary = messages.get_summary(conn, str(entry.details.get("message_id", "")))
        if summary is None:
            return None
        event = DeliveryEvent(summary.id, "subscribed", entry.email)
        return engine.record(conn, event, summary)

    recorded = await sandbox.db.write(write)
    if recorded is not None:
        engine.announce([recorded])
    return Response(status_code=204)


@router.get("/v3/asm/suppressions")
async def all_group_suppressions(request: Request) -> JSONResponse:
    def read(conn: Connection) -> list[dict[str, Any]]:
        return [
            {"email": s.email, "group_id": g.id, "group_name": g.name, "created_at": int(s.created)}
            for g in asm_store.groups(conn)
            for s in asm_store.unsubscribed(conn, g.id)
        ]

    return JSONResponse(await _sandbox(request).db.read(read))


@router.get("/v3/asm/suppressions/{email}")
async def groups_of_address(request: Request, email: str) -> JSONResponse:
    def read(conn: Connection) -> list[dict[str, Any]]:
        return [
            {
                **group_json(g, counts=False),
                "suppressed": suppressions.get(conn, KIND, email, scope(g.id)) is not None,
            }
            for g in asm_store.groups(conn)
        ]

    return JSONResponse({"suppressions": await _sandbox(request).db.read(read)})
