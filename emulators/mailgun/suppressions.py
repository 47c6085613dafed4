"""``/v3/{domain}/bounces|unsubscribes|complaints|whitelists``: list (address-cursor paging),
get, add (form or JSON array), delete one, delete all, on the shared suppression tables with
``scope`` = the domain."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.convertors import Convertor, register_url_convertor

from mailsandbox import safejson
from mailsandbox.emulators.common.addresses import valid_address
from mailsandbox.emulators.mailgun.auth import Caller, base_url, caller
from mailsandbox.emulators.mailgun.errors import bad_request, mg_json, not_found
from mailsandbox.emulators.mailgun.event_query import parse_time
from mailsandbox.emulators.mailgun.forms import (
    MAX_MESSAGE_BYTES,
    int_param,
    read_form,
    require_bare_clear,
)
from mailsandbox.storage import suppressions as store
from mailsandbox.storage.sql import Connection
from mailsandbox.storage.suppressions import Suppression


@dataclass(frozen=True)
class Table:
    kind: str
    added: str
    removed: str
    cleared: str


TABLES = {
    "bounces": Table(
        "bounce",
        "Address has been added to the bounces table",
        "Bounced address has been removed",
        "Bounced addresses for this domain have been removed",
    ),
    "unsubscribes": Table(
        "unsubscribe",
        "Address has been added to the unsubscribes table",
        "Unsubscribe event has been removed",
        "Unsubscribe events have been removed",
    ),
    "complaints": Table(
        "complaint",
        "Address has been added to the complaints table",
        "Spam complaint has been removed",
        "Spam complaints have been removed",
    ),
    "whitelists": Table(
        "whitelist",
        "Address/Domain has been added to the whitelists table",
        "Whitelist address/domain has been removed",
        "Whitelist addresses/domains have been removed",
    ),
}
MAX_LIMIT = 1000
MAX_IMPORT = 1000


class TableConvertor(Convertor[str]):
    regex = "|".join(TABLES)

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("mgsuppression", TableConvertor())
router = APIRouter()
PREFIX = "/v3/{domain:mgdomain}/{table:mgsuppression}"


def item_json(table: str, s: Suppression) -> dict[str, Any]:
    created = formatdate(s.created, usegmt=True)
    if table == "bounces":
        code = s.code or "550"
        return {"address": s.email, "code": code, "error": s.reason, "created_at": created}
    if table == "unsubscribes":
        return {"address": s.email, "tags": s.details.get("tags", ["*"]), "created_at": created}
    if table == "complaints":
        return {"address": s.email, "created_at": created}
    kind = s.details.get("type", "address")
    return {"value": s.email, "reason": s.reason, "type": kind, "createdAt": created}


def _entry(table: str, domain: str, data: dict[str, Any]) -> Suppression:
    """One entry from a form or a JSON object; 400 without an address."""
    kind = TABLES[table].kind
    value = str(data.get("address") or data.get("domain") or "").strip()
    if not value:
        raise bad_request("'address' parameter is missing")
    if table != "whitelists" and not valid_address(value):
        raise bad_request(f"'address' parameter is not a valid address: {value}")
    created = parse_time(str(data.get("created_at") or ""), "created_at") or 0.0
    details: dict[str, Any] = {}
    if table == "unsubscribes":
        tags = data.get("tags") or data.get("tag") or ["*"]
        details["tags"] = tags if isinstance(tags, list) else [str(tags)]
    if table == "whitelists":
        details["type"] = "domain" if data.get("domain") and not data.get("address") else "address"
    code = str(data.get("code") or ("550" if table == "bounces" else ""))
    reason = str(data.get("error") or data.get("reason") or "")
    return Suppression(kind, value, domain, reason, code, created, details)


@router.get(PREFIX)
async def list_table(table: str, request: Request, c: Caller = Depends(caller)) -> JSONResponse:
    q = request.query_params
    limit = int_param(q.get("limit"), "limit", 100, MAX_LIMIT)
    page, address = q.get("page", "first"), q.get("address", "").lower()
    kind = TABLES[table].kind

    def read(conn: Connection) -> list[Suppression]:
        if page == "next":
            return store.list_entries(conn, kind, c.domain, limit=limit, after_email=address)
        if page in ("previous", "last"):  # the tail before the cursor (or of the whole list)
            every = store.list_entries(conn, kind, c.domain, limit=-1, after_email="")
            before = [s for s in every if page == "last" or s.email < address]
            return before[-limit:]
        return store.list_entries(conn, kind, c.domain, limit=limit, after_email="")

    entries = await c.sandbox.db.read(read)
    url = f"{base_url(request)}/v3/{c.domain}/{table}"
    first_addr = quote(entries[0].email if entries else address)
    last_addr = quote(entries[-1].email if entries else address)
    paging = {
        "first": f"{url}?page=first&limit={limit}",
        "last": f"{url}?page=last&limit={limit}",
        "next": f"{url}?page=next&address={last_addr}&limit={limit}",
        "previous": f"{url}?page=previous&address={first_addr}&limit={limit}",
    }
    return mg_json({"items": [item_json(table, s) for s in entries], "paging": paging})


@router.get(PREFIX + "/{address}")
async def get_entry(table: str, address: str, c: Caller = Depends(caller)) -> JSONResponse:
    kind = TABLES[table].kind
    entry = await c.sandbox.db.read(lambda conn: store.get(conn, kind, address, c.domain))
    if entry is None:
        raise not_found(f"Address not found in {table} table")
    return mg_json(item_json(table, entry))


@router.post(PREFIX)
async def add_entries(table: str, request: Request, c: Caller = Depends(caller)) -> JSONResponse:
    single = True
    if "json" in request.headers.get("content-type", ""):
        try:
            body = safejson.loads(await safejson.read_body(request, MAX_MESSAGE_BYTES))
        except (safejson.JSONInputError, safejson.BodyTooLarge) as exc:
            raise bad_request("Invalid JSON body") from exc
        single = isinstance(body, dict)
        items = [body] if single else body
        if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
            raise bad_request("Body must be a JSON object or an array of objects")
        if len(items) > MAX_IMPORT:
            raise bad_request(f"Too many entries: at most {MAX_IMPORT} per request")
        entries = [_entry(table, c.domain, item) for item in items]
    else:
        form = await read_form(request)
        data: dict[str, Any] = {k: v[-1] for k, v in form.fields.items()}
        if form.all("tag"):
            data["tags"] = form.all("tag")
        entries = [_entry(table, c.domain, data)]
    await _store(c, entries)
    if not single:
        return mg_json(
            {"message": f"{len(entries)} addresses have been added to the {table} table"}
        )
    key = "value" if table == "whitelists" else "address"
    return mg_json({"message": TABLES[table].added, key: entries[0].email})


async def _store(c: Caller, entries: list[Suppression]) -> None:
    def write(conn: Connection) -> None:
        for entry in entries:
            store.add(conn, entry)

    await c.sandbox.db.write(write)


@router.post(PREFIX + "/import")
async def import_csv(table: str, request: Request, c: Caller = Depends(caller)) -> JSONResponse:
    """``POST .../bounces/import``: a CSV file part (header row: address, code, error...)."""
    form = await read_form(request)
    if not form.files:
        raise bad_request("file is missing")
    text = form.files[0].data.decode("utf-8-sig", errors="replace")
    rows = list(csv.DictReader(io.StringIO(text)))
    if len(rows) > MAX_IMPORT * 10:
        raise bad_request("Too many rows in the file")
    await _store(c, [_entry(table, c.domain, row) for row in rows])
    return mg_json({"message": "file uploaded successfully"})


@router.delete(PREFIX + "/{address}")
async def delete_entry(table: str, address: str, c: Caller = Depends(caller)) -> JSONResponse:
    kind = TABLES[table].kind
    removed = await c.sandbox.db.write(lambda conn: store.remove(conn, kind, address, c.domain))
    if not removed:
        raise not_found(f"Address not found in {table} table")
    key = "value" if table == "whitelists" else "address"
    return mg_json({key: address.lower(), "message": TABLES[table].removed})


@router.delete(PREFIX + "/", include_in_schema=False)
async def delete_empty_address(table: str, c: Caller = Depends(caller)) -> JSONResponse:
    """An empty address: without this route the router would redirect (307, method kept) to
    the bare path, which clears the whole table."""
    raise not_found(f"Address not found in {table} table")


@router.delete(PREFIX, dependencies=[Depends(require_bare_clear)])
async def clear_table(table: str, c: Caller = Depends(caller)) -> JSONResponse:
    kind = TABLES[table].kind
    await c.sandbox.db.write(lambda conn: store.clear(conn, kind, c.domain))
    return mg_json({"message": TABLES[table].cleared})
