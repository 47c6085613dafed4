"""Resend's templates: ``/templates`` (create, list, get by id or alias, update, publish,
duplicate, delete), and rendering one for a send (``"template": {"id", "variables"}``).

A template has ``name``, ``html`` (required), ``text``, ``subject``, ``from``, ``reply_to``,
an ``alias`` and declared ``variables`` (``key``, ``type``, ``fallback_value``); it is a
``draft`` until published, and only a published template can be sent. Variables are written
``{{{KEY}}}`` (or ``{{KEY}}``, HTML-escaped); a variable the send does not give takes its
fallback, and one without a fallback is a validation error. The send's own ``from``,
``subject`` and ``reply_to`` win over the template's. Stored in the Resend resource table
(kind ``template``). Shapes from the resend SDKs (``Templates``).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from mailsandbox.emulators import handlebars
from mailsandbox.emulators.common.ids import new_uuid
from mailsandbox.emulators.resend.errors import missing, not_found, validation
from mailsandbox.emulators.resend.resources import Resource, delete_resource, resources, save
from mailsandbox.emulators.resend.sending import created_text
from mailsandbox.emulators.resend.wire import answer, authorize, listing, object_body
from mailsandbox.runtime import Sandbox
from mailsandbox.storage.sql import Connection

KIND = "template"
FIELDS = ("name", "alias", "from", "subject", "reply_to", "html", "text", "variables")


def _find(conn: Connection, key: str) -> Resource:
    for item in resources(conn, KIND):
        if key in (item.id, item.data.get("alias")):
            return item
    raise not_found("Template not found")


def _time(epoch: Any) -> str | None:
    return created_text(float(epoch)) if epoch else None


def template_json(item: Resource) -> dict[str, Any]:
    d = item.data
    return {
        "object": "template",
        "id": item.id,
        **{name: d.get(name) for name in FIELDS},
        "status": "published" if d.get("published_at") else "draft",
        "created_at": created_text(item.created),
        "updated_at": _time(d.get("updated_at")) or created_text(item.created),
        "published_at": _time(d.get("published_at")),
    }


def _variables(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(v, dict) and isinstance(v.get("key"), str) and v.get("key") for v in value
    ):
        raise validation("Invalid `variables` field: a list of {key, type, fallback_value}.")
    for v in value:
        if v.get("type", "string") not in ("string", "number"):
            raise validation(f"Invalid type for variable `{v['key']}`: string or number.")
    return [dict(v) for v in value]


def _apply(item: Resource, data: dict[str, Any]) -> Resource:
    changed = dict(item.data)
    for name in FIELDS:
        if name in data:
            changed[name] = _variables(data[name]) if name == "variables" else data[name]
    for name in ("html", "text", "subject"):
        try:
            handlebars.render(str(changed.get(name) or ""), {})
        except handlebars.TemplateError as exc:
            raise validation(f"Invalid `{name}` field: {exc}") from exc
    changed["updated_at"] = time.time()
    return replace(item, name=str(changed.get("name") or item.name), data=changed)


async def create_template(request: Request) -> Response:
    caller = authorize(request)
    data = await object_body(request)
    for name in ("name", "html"):
        if not data.get(name):
            raise missing(name)
    item = _apply(Resource(new_uuid(), KIND, "", {}, time.time()), data)

    def write(conn: Connection) -> None:
        alias = item.data.get("alias")
        if alias and any(t.data.get("alias") == alias for t in resources(conn, KIND)):
            raise validation(f"A template with the alias `{alias}` already exists.")
        save(conn, item)

    await caller.sandbox.db.write(write)
    return answer({"id": item.id, "object": "template"})


async def list_templates(request: Request) -> Response:
    caller = authorize(request)
    found = await caller.sandbox.db.read(lambda conn: resources(conn, KIND))
    keep = ("id", "name", "status", "published_at", "created_at", "updated_at", "alias")
    items = [{k: v for k, v in template_json(t).items() if k in keep} for t in found]
    return answer(listing(items, request))


async def get_template(request: Request) -> Response:
    caller = authorize(request)
    key = request.path_params["template"]
    return answer(template_json(await caller.sandbox.db.read(lambda conn: _find(conn, key))))


async def _change(request: Request, change: Any) -> Response:
    caller = authorize(request)
    key = request.path_params["template"]

    def write(conn: Connection) -> Resource:
        item = change(_find(conn, key))
        save(conn, item)
        return item

    item = await caller.sandbox.db.write(write)
    return answer({"id": item.id, "object": "template"})


async def update_template(request: Request) -> Response:
    data = await object_body(request)
    return await _change(request, lambda item: _apply(item, data))


async def publish_template(request: Request) -> Response:
    return await _change(
        request, lambda item: replace(item, data={**item.data, "published_at": time.time()})
    )


async def duplicate_template(request: Request) -> Response:
    def copy(item: Resource) -> Resource:
        data = {**item.data, "alias": None, "published_at": None, "updated_at": time.time()}
        return Resource(new_uuid(), KIND, f"{item.name} (copy)", data, time.time())

    return await _change(request, copy)


async def delete_template(request: Request) -> Response:
    caller = authorize(request)
    key = request.path_params["template"]

    def write(conn: Connection) -> str:
        item = _find(conn, key)
        delete_resource(conn, KIND, item.id)
        return item.id

    removed = await caller.sandbox.db.write(write)
    return answer({"object": "template", "id": removed, "deleted": True})


async def render_into(sandbox: Sandbox, data: Any) -> None:
    """Render the ``template`` of a send into its fields (html, text, and from, subject,
    reply_to unless the send gives them); validation errors as Resend answers them."""
    if not isinstance(data, dict) or data.get("template") is None:
        return
    ref = data["template"]
    if not isinstance(ref, dict) or not ref.get("id"):
        raise validation("Invalid `template` field: it needs an `id`.")
    if data.get("html") or data.get("text"):
        raise validation("The `html` and `text` fields cannot be used with `template`.")
    key = str(ref["id"])
    item = await sandbox.db.read(lambda conn: _find(conn, key))
    if not item.data.get("published_at"):
        raise validation(f"The template `{key}` is not published.")
    given = ref.get("variables") or {}
    if not isinstance(given, dict):
        raise validation("Invalid `template.variables` field: an object.")
    values: dict[str, Any] = {}
    for variable in item.data.get("variables") or []:
        name = variable["key"]
        if name in given:
            values[name] = given[name]
        elif "fallback_value" in variable:
            values[name] = variable["fallback_value"]
        else:
            raise validation(f"Missing required variable `{name}`.")
    values.update(given)
    for name in ("from", "subject", "reply_to"):
        if not data.get(name) and item.data.get(name):
            data[name] = item.data[name]
    for name in ("html", "text", "subject"):
        source = data.get(name) if name == "subject" else item.data.get(name)
        if source:
            data[name] = handlebars.render(str(source), values, escape=name == "html")
    data.pop("template")


ROUTES = [
    ("POST", "/templates", create_template),
    ("GET", "/templates", list_templates),
    ("GET", "/templates/{template}", get_template),
    ("PATCH", "/templates/{template}", update_template),
    ("DELETE", "/templates/{template}", delete_template),
    ("POST", "/templates/{template}/publish", publish_template),
    ("POST", "/templates/{template}/duplicate", duplicate_template),
]
