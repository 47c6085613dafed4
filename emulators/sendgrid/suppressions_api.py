"""SendGrid suppression endpoints on the shared suppression store (scope '' = account-wide).

``/v3/suppression/{bounces|blocks|spam_reports|invalid_emails|unsubscribes}`` list / get /
delete as SendGrid does, plus ``POST`` to add entries (a sandbox extension: the real API has
none, but tests need to seed lists). ``/v3/asm/suppressions/global`` adds, reads and removes
global unsubscribes; SendGrid's ``/suppression/unsubscribes`` is that same list, so both read
the ``global_unsubscribe`` and ``unsubscribe`` kinds (the latter is what simulated
``unsubscribed`` events add).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from mailsandbox.emulators.sendgrid.auth import authorize
from mailsandbox.emulators.sendgrid.body import read_json, read_object
from mailsandbox.emulators.sendgrid.checks import valid_email
from mailsandbox.emulators.sendgrid.errors import SendGridError, not_found
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import suppressions as store

router = APIRouter(dependencies=[Depends(authorize)])
# URL segment → kinds (the first one is where additions go)
LISTS: dict[str, tuple[str, ...]] = {
    "bounces": ("bounce",),
    "blocks": ("block",),
    "spam_reports": ("spam_report",),
    "invalid_emails": ("invalid_email",),
    "unsubscribes": ("global_unsubscribe", "unsubscribe"),
}
GLOBAL = LISTS["unsubscribes"]


def _sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def _kinds(list_name: str) -> tuple[str, ...]:
    if list_name not in LISTS:
        raise not_found()
    return LISTS[list_name]


def entry_json(list_name: str, item: store.Suppression) -> dict[str, Any]:
    """The wire shape of one entry of list ``list_name``."""
    out: dict[str, Any] = {"created": int(item.created), "email": item.email}
    if list_name in ("bounces", "blocks"):
        out["reason"] = item.reason
        out["status"] = item.code or ("5.1.1" if list_name == "bounces" else "4.0.0")
    elif list_name == "invalid_emails":
        out["reason"] = item.reason or "Mail domain mentioned in email address is unknown"
    elif list_name == "spam_reports":
        out["ip"] = str(item.details.get("ip", "127.0.0.1"))
    return out


def _int_param(request: Request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    if not value.lstrip("-").isdigit():
        raise SendGridError.one(400, f"{name} must be an integer", name)
    return int(value)


@router.get("/v3/suppression/{list_name}")
async def list_entries(request: Request, list_name: str) -> JSONResponse:
    kinds = _kinds(list_name)
    limit, offset = _int_param(request, "limit") or 500, _int_param(request, "offset") or 0
    start, end = _int_param(request, "start_time"), _int_param(request, "end_time")
    email = request.query_params.get("email") or None

    def read(conn: Any) -> list[store.Suppression]:
        found = [
            e
            for kind in kinds
            for e in store.list_entries(
                conn,
                kind,
                limit=limit + offset,
                start_time=start,
                end_time=end,
                email_contains=email,
            )
        ]
        found.sort(key=lambda e: e.created, reverse=True)
        unique = {e.email: e for e in reversed(found)}  # one row per address, newest wins
        return sorted(unique.values(), key=lambda e: e.created, reverse=True)[offset:][:limit]

    entries = await _sandbox(request).db.read(read)
    return JSONResponse([entry_json(list_name, e) for e in entries])


@router.get("/v3/suppression/{list_name}/{email}")
async def get_entry(request: Request, list_name: str, email: str) -> JSONResponse:
    kinds = _kinds(list_name)

    def read(conn: Any) -> list[store.Suppression]:
        return [e for kind in kinds if (e := store.get(conn, kind, email)) is not None][:1]

    entries = await _sandbox(request).db.read(read)
    return JSONResponse([entry_json(list_name, e) for e in entries])


@router.post("/v3/suppression/{list_name}")
async def add_entries(request: Request, list_name: str) -> JSONResponse:
    """Sandbox extension: ``[{"email", "reason"?, "status"?}]`` or ``{"emails": [...]}``."""
    kind = _kinds(list_name)[0]
    body = await read_json(request)
    items = body.get("emails") if isinstance(body, dict) else body
    if not isinstance(items, list) or not items:
        raise SendGridError.one(400, "a list of addresses is required", "emails")
    entries = [i if isinstance(i, dict) else {"email": i} for i in items]
    for n, entry in enumerate(entries):
        if not valid_email(entry.get("email")):
            raise SendGridError.one(400, "Does not contain a valid address.", f"{n}.email")

    def write(conn: Any) -> list[store.Suppression]:
        return [
            store.add(
                conn,
                store.Suppression(
                    kind=kind,
                    email=e["email"],
                    reason=str(e.get("reason", "")),
                    code=str(e.get("status", "")),
                    details={"ip": e["ip"]} if "ip" in e else {},
                ),
            )
            for e in entries
        ]

    added = await _sandbox(request).db.write(write)
    return JSONResponse([entry_json(list_name, e) for e in added], status_code=201)


def _bulk_delete(body: dict[str, Any]) -> list[str] | None:
    """The addresses a bulk DELETE names, or None for ``{"delete_all": true}``.

    As SendGrid documents it: ``delete_all`` (a boolean) or ``emails`` (a list of addresses),
    never both ("You can not have both emails and delete_all set"). Anything else is a 400
    that deletes nothing: a malformed body must never clear a whole list.
    """
    delete_all, emails = body.get("delete_all"), body.get("emails")
    if delete_all is not None and not isinstance(delete_all, bool):
        raise SendGridError.one(400, "delete_all must be a boolean", "delete_all")
    if emails is not None and (
        not isinstance(emails, list) or not all(isinstance(e, str) for e in emails)
    ):
        raise SendGridError.one(400, "emails must be an array of strings", "emails")
    if delete_all and emails is not None:
        raise SendGridError.one(400, "You can not have both emails and delete_all set", "emails")
    if delete_all:
        return None
    if emails is None:
        raise SendGridError.one(400, "delete_all or emails is required", "emails")
    return emails


@router.delete("/v3/suppression/{list_name}")
async def delete_entries(request: Request, list_name: str) -> Response:
    kinds = _kinds(list_name)
    emails = _bulk_delete(await read_object(request, required=False))

    def write(conn: Any) -> None:
        for kind in kinds:
            if emails is None:
                store.clear(conn, kind)
            else:
                for email in emails:
                    store.remove(conn, kind, email)

    await _sandbox(request).db.write(write)
    return Response(status_code=204)


async def _remove(request: Request, kinds: tuple[str, ...], email: str) -> Response:
    await _sandbox(request).db.write(
        lambda conn: [store.remove(conn, kind, email) for kind in kinds]
    )
    return Response(status_code=204)


@router.delete("/v3/suppression/{list_name}/{email}")
async def delete_entry(request: Request, list_name: str, email: str) -> Response:
    return await _remove(request, _kinds(list_name), email)


@router.post("/v3/asm/suppressions/global")
async def add_global(request: Request) -> JSONResponse:
    body = await read_object(request)
    emails = body.get("recipient_emails")
    if not isinstance(emails, list) or not emails:
        raise SendGridError.one(400, "recipient_emails is required", "recipient_emails")
    for n, email in enumerate(emails):
        if not valid_email(email):
            raise SendGridError.one(
                400, "Does not contain a valid address.", f"recipient_emails.{n}"
            )
    await _sandbox(request).db.write(
        lambda conn: [store.add(conn, store.Suppression(GLOBAL[0], e)) for e in emails]
    )
    return JSONResponse({"recipient_emails": emails}, status_code=201)


@router.get("/v3/asm/suppressions/global/{email}")
async def get_global(request: Request, email: str) -> JSONResponse:
    found = await _sandbox(request).db.read(
        lambda conn: any(store.get(conn, kind, email) for kind in GLOBAL)
    )
    return JSONResponse({"recipient_email": email} if found else {})


@router.delete("/v3/asm/suppressions/global/{email}")
async def delete_global(request: Request, email: str) -> Response:
    return await _remove(request, GLOBAL, email)
