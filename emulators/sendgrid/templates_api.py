"""``/v3/templates`` and ``/v3/templates/{id}/versions``: enough of SendGrid's Templates API to
create, read, update, activate and delete dynamic (``d-…``) and legacy templates."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from mailsandbox.emulators.sendgrid import template_store as store
from mailsandbox.emulators.sendgrid.auth import authorize
from mailsandbox.emulators.sendgrid.body import read_object
from mailsandbox.emulators.sendgrid.errors import SendGridError, not_found
from mailsandbox.runtime import Sandbox

router = APIRouter(prefix="/v3/templates", dependencies=[Depends(authorize)])


def _sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def _stamp(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))


def version_json(v: store.Version) -> dict[str, Any]:
    return {
        "id": v.id,
        "user_id": 1,
        "template_id": v.template_id,
        "active": v.active,
        "name": v.name,
        "subject": v.subject,
        "html_content": v.html_content,
        "plain_content": v.plain_content,
        "generate_plain_content": v.generate_plain_content,
        "editor": v.editor,
        "test_data": v.test_data,
        "thumbnail_url": "",
        "updated_at": _stamp(v.updated),
    }


def template_json(t: store.Template) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "generation": t.generation,
        "updated_at": _stamp(t.updated),
        "versions": [version_json(v) for v in t.versions],
    }


def _required_string(body: dict[str, Any], key: str, limit: int = 100) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value or len(value) > limit:
        raise SendGridError.one(400, f"{key} is required and must be 1 to {limit} characters", key)
    return value


async def _template(sandbox: Sandbox, template_id: str) -> store.Template:
    template = await sandbox.db.read(lambda conn: store.get(conn, template_id))
    if template is None:
        raise not_found("template_id")
    return template


@router.post("")
async def create_template(request: Request) -> JSONResponse:
    body = await read_object(request)
    name = _required_string(body, "name")
    generation = body.get("generation", "legacy")
    if generation not in ("legacy", "dynamic"):
        raise SendGridError.one(400, "generation must be either legacy or dynamic", "generation")
    template = store.Template(store.new_template_id(generation), name, generation, 0.0)
    await _sandbox(request).db.write(lambda conn: store.save_template(conn, template))
    return JSONResponse(template_json(template), status_code=201)


@router.get("")
async def list_templates(request: Request) -> JSONResponse:
    wanted = request.query_params.get("generations", "legacy")
    generations = [g.strip() for g in wanted.split(",") if g.strip() in ("legacy", "dynamic")]
    found = await _sandbox(request).db.read(lambda conn: store.list_templates(conn, generations))
    size = request.query_params.get("page_size", "")
    page = found[: int(size)] if size.isdigit() and int(size) > 0 else found
    return JSONResponse(
        {"result": [template_json(t) for t in page], "_metadata": {"count": len(found)}}
    )


@router.get("/{template_id}")
async def get_template(request: Request, template_id: str) -> JSONResponse:
    return JSONResponse(template_json(await _template(_sandbox(request), template_id)))


@router.patch("/{template_id}")
async def rename_template(request: Request, template_id: str) -> JSONResponse:
    sandbox = _sandbox(request)
    template = await _template(sandbox, template_id)
    template.name = _required_string(await read_object(request), "name")
    await sandbox.db.write(lambda conn: store.save_template(conn, template))
    return JSONResponse(template_json(template))


@router.delete("/{template_id}")
async def delete_template(request: Request, template_id: str) -> Response:
    if not await _sandbox(request).db.write(lambda conn: store.delete_template(conn, template_id)):
        raise not_found("template_id")
    return Response(status_code=204)


def _apply(version: store.Version, body: dict[str, Any]) -> store.Version:
    for key in store.VERSION_FIELDS:
        if key not in body:
            continue
        value = body[key]
        expected: type | tuple[type, ...] = str
        if key == "generate_plain_content":
            expected = bool
        elif key == "active":
            expected = int
        elif key == "test_data" and not isinstance(value, str):
            value = "" if value is None else json.dumps(value)
        if not isinstance(value, expected):
            raise SendGridError.one(400, f"{key} has the wrong type", key)
        setattr(version, key, value)
    return version


async def _store_version(request: Request, version: store.Version, status: int) -> JSONResponse:
    await _sandbox(request).db.write(lambda conn: store.save_version(conn, version))
    return JSONResponse(version_json(version), status_code=status)


def _find_version(template: store.Template, version_id: str) -> store.Version:
    version = next((v for v in template.versions if v.id == version_id), None)
    if version is None:
        raise not_found("version_id")
    return version


@router.post("/{template_id}/versions")
async def create_version(request: Request, template_id: str) -> JSONResponse:
    template = await _template(_sandbox(request), template_id)
    body = await read_object(request)
    _required_string(body, "name")
    version = _apply(store.Version(id=str(uuid.uuid4()), template_id=template.id), body)
    if not template.versions and "active" not in body:
        version.active = 1  # a template's first version is its active one
    return await _store_version(request, version, 201)


@router.get("/{template_id}/versions/{version_id}")
async def get_version(request: Request, template_id: str, version_id: str) -> JSONResponse:
    template = await _template(_sandbox(request), template_id)
    return JSONResponse(version_json(_find_version(template, version_id)))


@router.patch("/{template_id}/versions/{version_id}")
async def update_version(request: Request, template_id: str, version_id: str) -> JSONResponse:
    template = await _template(_sandbox(request), template_id)
    version = _apply(_find_version(template, version_id), await read_object(request))
    return await _store_version(request, version, 200)


@router.post("/{template_id}/versions/{version_id}/activate")
async def activate_version(request: Request, template_id: str, version_id: str) -> JSONResponse:
    template = await _template(_sandbox(request), template_id)
    version = _find_version(template, version_id)
    version.active = 1
    return await _store_version(request, version, 200)


@router.delete("/{template_id}/versions/{version_id}")
async def delete_version(request: Request, template_id: str, version_id: str) -> Response:
    sandbox = _sandbox(request)
    await _template(sandbox, template_id)
    if not await sandbox.db.write(lambda conn: store.delete_version(conn, template_id, version_id)):
        raise not_found("version_id")
    return Response(status_code=204)
