"""``/templates``: Postmark's templates API (list, get, create, edit, delete, validate), on the
template table (``templates.py``). Shapes from the postmark.js client's ``Template`` models and
postmarker's ``TemplateManager``; codes from Postmark's error list (1101 not found, 1120 a
required field missing, 1122 an invalid field, 1130 a layout still in use, 1131 a layout without
exactly one ``{{{ @content }}}``).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from mailsandbox.emulators import handlebars
from mailsandbox.emulators.postmark import templates
from mailsandbox.emulators.postmark.errors import (
    DEPENDENT_TEMPLATES,
    INVALID_TEMPLATE_FIELD,
    LAYOUT_PLACEHOLDER,
    NO_TEMPLATE_DATA,
    TEMPLATE_FIELD_MISSING,
    TEMPLATE_NOT_FOUND,
    TEMPLATE_QUERY,
    PostmarkError,
)
from mailsandbox.emulators.postmark.templates import Template
from mailsandbox.emulators.postmark.wire import answer, authorize, body, int_param
from mailsandbox.storage.sql import Connection

TYPES = ("Standard", "Layout")


def not_found(id_or_alias: str | int) -> PostmarkError:
    return PostmarkError(
        TEMPLATE_NOT_FOUND,
        f"The template '{id_or_alias}' associated with this request is not valid or was not found.",
    )


def summary(t: Template) -> dict[str, Any]:
    """What create and edit answer."""
    return {k: v for k, v in t.as_listed().items()}


async def list_templates(request: Request) -> Response:
    caller = authorize(request)
    count = int_param(request, "count", 100, TEMPLATE_QUERY)
    offset = int_param(request, "offset", 0, TEMPLATE_QUERY, most=1_000_000)
    kind = request.query_params.get("TemplateType") or request.query_params.get("templateType")
    layout = request.query_params.get("LayoutTemplate") or ""
    found = await caller.sandbox.db.read(lambda conn: templates.listing(conn, kind or "", layout))
    page = [t.as_listed() for t in found[offset : offset + count]]
    return answer({"TotalCount": len(found), "Templates": page})


async def get_template(request: Request) -> Response:
    caller = authorize(request)
    key = request.path_params["template"]
    found = await caller.sandbox.db.read(lambda conn: templates.find(conn, key))
    if found is None:
        raise not_found(key)
    return answer(found.as_json())


def _text(data: dict[str, Any], name: str, default: str | None = "") -> str | None:
    value = data.get(name, default)
    return None if value is None else str(value)


def _apply(conn: Connection, t: Template, data: dict[str, Any], creating: bool) -> None:
    """Merge ``data`` into ``t`` and check the result as Postmark does."""
    kind = str(data.get("TemplateType") or t.type)
    if kind not in TYPES:
        raise PostmarkError(INVALID_TEMPLATE_FIELD, "TemplateType must be Standard or Layout.")
    if not creating and kind != t.type:
        raise PostmarkError(INVALID_TEMPLATE_FIELD, "The TemplateType of a template is fixed.")
    t.type = kind
    for field, attr in (("Name", "name"), ("Subject", "subject"), ("HtmlBody", "html"),
                        ("TextBody", "text")):  # fmt: skip
        if field in data:
            setattr(t, attr, _text(data, field) or "")
    if "Alias" in data:
        alias = _text(data, "Alias", None)
        t.alias = alias.strip() if alias and alias.strip() else None
    if "LayoutTemplate" in data:
        layout = _text(data, "LayoutTemplate", None)
        t.layout = layout.strip() if layout and layout.strip() else None
    if not t.name.strip():
        raise PostmarkError(TEMPLATE_FIELD_MISSING, "The 'Name' field is required.")
    if t.type == "Standard" and not t.subject.strip():
        raise PostmarkError(TEMPLATE_FIELD_MISSING, "The 'Subject' field is required.")
    if not (t.html.strip() or t.text.strip()):
        raise PostmarkError(TEMPLATE_FIELD_MISSING, "Provide either HtmlBody or TextBody or both.")
    if t.alias is not None:
        other = templates.find(conn, t.alias)
        if t.alias.isdigit() or (other is not None and other.id != t.id):
            raise PostmarkError(
                INVALID_TEMPLATE_FIELD, f"The alias '{t.alias}' is invalid or already in use."
            )
    if t.type == "Layout":
        t.layout = None
        for part in (t.html, t.text):
            if part and templates.placeholder_count(part) != 1:
                raise PostmarkError(
                    LAYOUT_PLACEHOLDER,
                    "The layout content placeholder {{{ @content }}} must be present exactly"
                    " once in the layout's HtmlBody and TextBody.",
                )
    elif t.layout is not None:
        found = templates.find(conn, t.layout)
        if found is None or found.type != "Layout":
            raise not_found(t.layout)
    for part in (t.subject, t.html, t.text):
        try:
            handlebars.render(part, {})
        except handlebars.TemplateError as exc:
            raise PostmarkError(INVALID_TEMPLATE_FIELD, str(exc)) from exc


async def _data(request: Request) -> dict[str, Any]:
    data = await body(request)
    if not isinstance(data, dict) or not data:
        raise PostmarkError(NO_TEMPLATE_DATA, "No Template data received.")
    return data


async def create_template(request: Request) -> Response:
    caller = authorize(request)
    data = await _data(request)

    def write(conn: Connection) -> Template:
        t = Template(0, None, "", "", "", "")
        _apply(conn, t, data, creating=True)
        return templates.save(conn, t)

    return answer(summary(await caller.sandbox.db.write(write)))


async def edit_template(request: Request) -> Response:
    caller = authorize(request)
    key = request.path_params["template"]
    data = await _data(request)

    def write(conn: Connection) -> Template:
        t = templates.find(conn, key)
        if t is None:
            raise not_found(key)
        _apply(conn, t, data, creating=False)
        return templates.save(conn, t)

    return answer(summary(await caller.sandbox.db.write(write)))


async def delete_template(request: Request) -> Response:
    caller = authorize(request)
    key = request.path_params["template"]

    def write(conn: Connection) -> int:
        t = templates.find(conn, key)
        if t is None:
            raise not_found(key)
        if t.type == "Layout" and t.alias and templates.listing(conn, layout=t.alias):
            raise PostmarkError(
                DEPENDENT_TEMPLATES,
                "This layout cannot be deleted: templates that use it exist.",
            )
        templates.delete(conn, t.id)
        return t.id

    removed = await caller.sandbox.db.write(write)
    return answer({"ErrorCode": 0, "Message": f"Template {removed} removed."})


def _section(render: Any, source: str) -> dict[str, Any]:
    if not source:
        return {"ContentIsValid": True, "ValidationErrors": [], "RenderedContent": ""}
    try:
        return {"ContentIsValid": True, "ValidationErrors": [], "RenderedContent": render()}
    except handlebars.TemplateError as exc:
        error = {"Message": str(exc), "Line": 0, "CharacterPosition": 0}
        return {"ContentIsValid": False, "ValidationErrors": [error], "RenderedContent": ""}


async def validate_template(request: Request) -> Response:
    """``POST /templates/validate``: each part rendered with ``TestRenderModel`` (or the
    suggested model), with its errors."""
    caller = authorize(request)
    data = await _data(request)
    subject, html, text = (str(data.get(k) or "") for k in ("Subject", "HtmlBody", "TextBody"))
    suggested = templates.suggested_model(subject, html, text)
    model = data.get("TestRenderModel")
    model = model if isinstance(model, dict) else suggested
    layout_name = str(data.get("LayoutTemplate") or "")
    layout = None
    if layout_name:
        layout = await caller.sandbox.db.read(lambda conn: templates.find(conn, layout_name))
        if layout is None or layout.type != "Layout":
            raise not_found(layout_name)
    probe = Template(0, None, "validate", subject, html, text)

    def part(name: str) -> Any:
        return lambda: getattr(templates.render(probe, layout, model), name)

    sections = {
        "Subject": _section(part("subject"), subject),
        "HtmlBody": _section(part("html"), html),
        "TextBody": _section(part("text"), text),
    }
    valid = all(s["ContentIsValid"] for s in sections.values())
    return answer({"AllContentIsValid": valid, **sections, "SuggestedTemplateModel": suggested})


ROUTES = [
    ("GET", "/templates", list_templates),
    ("POST", "/templates", create_template),
    ("POST", "/templates/", create_template),
    ("POST", "/templates/validate", validate_template),
    ("GET", "/templates/{template}", get_template),
    ("PUT", "/templates/{template}", edit_template),
    ("DELETE", "/templates/{template}", delete_template),
]
