"""``/v3/{domain}/templates``: create, get, list, update, delete templates and their versions
(enough for ``template`` sends, which render the active or ``t:version`` version)."""

from __future__ import annotations

import sqlite3
from email.utils import formatdate
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from mailsandbox.emulators.mailgun import template_store as store
from mailsandbox.emulators.mailgun.auth import Caller, base_url, caller
from mailsandbox.emulators.mailgun.errors import MailgunError, bad_request, mg_json, not_found
from mailsandbox.emulators.mailgun.forms import (
    Form,
    boolean,
    int_param,
    read_form,
    require_bare_clear,
)

router = APIRouter()
PREFIX = "/v3/{domain:mgdomain}/templates"


def _version_json(row: sqlite3.Row, with_body: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "tag": row["tag"],
        "engine": row["engine"],
        "createdAt": formatdate(row["created"], usegmt=True),
        "comment": row["comment"],
        "active": bool(row["active"]),
        "id": f"{row['name']}-{row['tag']}",
    }
    if with_body:
        out["template"] = row["template"]
    return out


def _template_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "name": row["name"],
        "description": row["description"],
        "createdAt": formatdate(row["created"], usegmt=True),
        "createdBy": row["created_by"],
        "id": f"{row['domain']}-{row['name']}",
    }


def _version_values(form: Form, tag_default: str = "") -> dict[str, Any]:
    active = form.first("active")
    return {
        "tag": (form.first("tag") or tag_default).lower(),
        "template": form.first("template"),
        "engine": form.first("engine"),
        "comment": form.first("comment"),
        "active": boolean(active, "active") if active else False,
    }


async def _existing(c: Caller, name: str) -> sqlite3.Row:
    row = await c.sandbox.db.read(lambda conn: store.get_template(conn, c.domain, name))
    if row is None:
        raise not_found("template not found")
    return row


@router.post(PREFIX)
async def create_template(request: Request, c: Caller = Depends(caller)) -> JSONResponse:
    form = await read_form(request)
    name = form.first("name").strip().lower()
    if not name:
        raise bad_request("name is required")
    values = {"name": name, "description": form.first("description"), "created_by": ""}
    version = _version_values(form, "initial") if form.first("template") else None

    def write(conn: sqlite3.Connection) -> dict[str, Any]:
        if store.get_template(conn, c.domain, name) is not None:
            raise MailgunError(409, f"template with name '{name}' already exists")
        store.create_template(conn, c.domain, values)
        if version is not None:
            store.save_version(conn, c.domain, name, version)
        out = _template_json(store.get_template(conn, c.domain, name))  # type: ignore[arg-type]
        active = store.get_version(conn, c.domain, name, None)
        if active is not None:
            out["version"] = _version_json(active)
        return out

    template = await c.sandbox.db.write(write)
    return mg_json({"message": "template has been stored", "template": template})


@router.get(PREFIX)
async def list_templates(request: Request, c: Caller = Depends(caller)) -> JSONResponse:
    q = request.query_params
    limit = int_param(q.get("limit"), "limit", 10, 100)
    after = q.get("p", "") if q.get("page") == "next" else ""
    rows = await c.sandbox.db.read(lambda conn: store.list_templates(conn, c.domain, after, limit))
    items = [_template_json(r) for r in rows]
    url = f"{base_url(request)}/v3/{c.domain}/templates"
    last = items[-1]["name"] if items else after
    paging = {
        "first": f"{url}?limit={limit}",
        "last": f"{url}?page=last&limit={limit}",
        "next": f"{url}?page=next&p={last}&limit={limit}",
        "previous": f"{url}?page=previous&p={items[0]['name'] if items else ''}&limit={limit}",
    }
    return mg_json({"items": items, "paging": paging})


@router.get(PREFIX + "/{name}")
async def get_template(name: str, request: Request, c: Caller = Depends(caller)) -> JSONResponse:
    row = await _existing(c, name)
    out = _template_json(row)
    if request.query_params.get("active", "").lower() in ("yes", "true"):
        active = await c.sandbox.db.read(lambda conn: store.get_version(conn, c.domain, name, None))
        if active is not None:
            out["version"] = _version_json(active)
    return mg_json({"template": out})


@router.put(PREFIX + "/{name}")
async def update_template(name: str, request: Request, c: Caller = Depends(caller)) -> JSONResponse:
    row = await _existing(c, name)
    form = await read_form(request)
    text = form.first("description", row["description"])
    await c.sandbox.db.write(
        lambda conn: store.update_description(conn, c.domain, row["name"], text)
    )
    return mg_json({"message": "template has been updated", "template": {"name": row["name"]}})


@router.delete(PREFIX + "/{name}")
async def delete_template(name: str, c: Caller = Depends(caller)) -> JSONResponse:
    row = await _existing(c, name)
    await c.sandbox.db.write(lambda conn: store.delete_template(conn, c.domain, row["name"]))
    return mg_json({"message": "template has been deleted", "template": {"name": row["name"]}})


@router.delete(PREFIX + "/", include_in_schema=False)
async def delete_unnamed_template(c: Caller = Depends(caller)) -> JSONResponse:
    """An empty name: without this route the router would redirect (307, method kept) to the
    bare path, which deletes every template."""
    raise not_found("template not found")


@router.delete(PREFIX, dependencies=[Depends(require_bare_clear)])
async def delete_all_templates(c: Caller = Depends(caller)) -> JSONResponse:
    await c.sandbox.db.write(lambda conn: store.delete_template(conn, c.domain, None))
    return mg_json({"message": "templates have been deleted"})


@router.post(PREFIX + "/{name}/versions")
async def create_version(name: str, request: Request, c: Caller = Depends(caller)) -> JSONResponse:
    row = await _existing(c, name)
    values = _version_values(await read_form(request))
    if not values["tag"] or not values["template"]:
        raise bad_request("tag and template are required")
    await c.sandbox.db.write(lambda conn: store.save_version(conn, c.domain, row["name"], values))
    version = await _existing_version(c, row["name"], values["tag"])
    return mg_json(
        {
            "message": "new version of the template has been stored",
            "template": {**_template_json(row), "version": _version_json(version)},
        }
    )


async def _existing_version(c: Caller, name: str, tag: str) -> sqlite3.Row:
    version = await c.sandbox.db.read(lambda conn: store.get_version(conn, c.domain, name, tag))
    if version is None:
        raise not_found("version not found")
    return version


@router.get(PREFIX + "/{name}/versions")
async def list_versions(name: str, request: Request, c: Caller = Depends(caller)) -> JSONResponse:
    row = await _existing(c, name)
    rows = await c.sandbox.db.read(lambda conn: store.list_versions(conn, c.domain, row["name"]))
    url = f"{base_url(request)}/v3/{c.domain}/templates/{row['name']}/versions"
    versions = [_version_json(v, with_body=False) for v in rows]
    paging = {k: f"{url}?page={k}" for k in ("first", "last", "next", "previous")}
    return mg_json({"template": {**_template_json(row), "versions": versions}, "paging": paging})


@router.get(PREFIX + "/{name}/versions/{tag}")
async def get_version(name: str, tag: str, c: Caller = Depends(caller)) -> JSONResponse:
    row = await _existing(c, name)
    version = await _existing_version(c, row["name"], tag.lower())
    return mg_json({"template": {**_template_json(row), "version": _version_json(version)}})


@router.put(PREFIX + "/{name}/versions/{tag}")
async def update_version(
    name: str, tag: str, request: Request, c: Caller = Depends(caller)
) -> JSONResponse:
    row = await _existing(c, name)
    old = await _existing_version(c, row["name"], tag.lower())
    form = await read_form(request)
    values = _version_values(form, old["tag"])
    values["tag"] = old["tag"]
    values["template"] = values["template"] or old["template"]
    values["comment"] = form.first("comment", old["comment"])
    await c.sandbox.db.write(lambda conn: store.save_version(conn, c.domain, row["name"], values))
    body = {"name": row["name"], "version": {"tag": old["tag"]}}
    return mg_json({"message": "version has been updated", "template": body})


@router.delete(PREFIX + "/{name}/versions/{tag}")
async def delete_version(name: str, tag: str, c: Caller = Depends(caller)) -> JSONResponse:
    row = await _existing(c, name)
    version = await _existing_version(c, row["name"], tag.lower())
    await c.sandbox.db.write(
        lambda conn: store.delete_version(conn, c.domain, row["name"], version["tag"])
    )
    body = {"name": row["name"], "version": {"tag": version["tag"]}}
    return mg_json({"message": "version has been deleted", "template": body})
