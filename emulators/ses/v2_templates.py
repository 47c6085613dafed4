"""SES v2 email templates: ``CreateEmailTemplate``, ``GetEmailTemplate``, ``ListEmailTemplates``,
``UpdateEmailTemplate``, ``DeleteEmailTemplate`` and ``TestRenderEmailTemplate`` (which answers
the MIME message SES would send, as SES does)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mailsandbox.emulators.ses import sending, template_store
from mailsandbox.emulators.ses.errors import (
    MISSING_ATTRIBUTE,
    TEMPLATE_EXISTS,
    TEMPLATE_MISSING,
    SesError,
)
from mailsandbox.emulators.ses.paging import page
from mailsandbox.emulators.ses.rendering import test_render
from mailsandbox.emulators.ses.sigv4 import authorize
from mailsandbox.emulators.ses.v2_common import answer, caller_and_body, required
from mailsandbox.runtime import Sandbox

router = APIRouter()


def _content(data: dict[str, Any]) -> dict[str, str]:
    content = required(data, "TemplateContent")
    return {k: str(content.get(k) or "") for k in ("Subject", "Text", "Html")}


def _missing(name: str) -> SesError:
    return SesError(TEMPLATE_MISSING, f"Template {name} does not exist.")


@router.post("/v2/email/templates")
async def create_template(request: Request) -> Response:
    _, data = await caller_and_body(request)
    sandbox: Sandbox = request.app.state.sandbox
    name = str(required(data, "TemplateName"))
    content = _content(data)
    template = template_store.Template(
        name, content["Subject"], content["Text"], content["Html"], tags=data.get("Tags") or []
    )
    if not await sandbox.db.write(lambda c: template_store.create(c, template)):
        raise SesError(TEMPLATE_EXISTS, f"Template {name} already exists.")
    return answer()


@router.get("/v2/email/templates/{name}")
async def get_template(request: Request, name: str) -> Response:
    authorize(request)
    sandbox: Sandbox = request.app.state.sandbox
    found = await sandbox.db.read(lambda c: template_store.get(c, name))
    if found is None:
        raise _missing(name)
    content = {"Subject": found.subject, "Text": found.text, "Html": found.html}
    return answer({"TemplateName": found.name, "TemplateContent": content, "Tags": found.tags})


@router.get("/v2/email/templates")
async def list_templates(request: Request) -> Response:
    authorize(request)
    sandbox: Sandbox = request.app.state.sandbox
    after, size = page(request.query_params.get("NextToken"), request.query_params.get("PageSize"))
    rows = await sandbox.db.read(lambda c: template_store.names(c, after, size + 1))
    out: dict[str, Any] = {
        "TemplatesMetadata": [{"TemplateName": n, "CreatedTimestamp": t} for n, t in rows[:size]]
    }
    if len(rows) > size:
        out["NextToken"] = rows[size - 1][0]
    return answer(out)


@router.put("/v2/email/templates/{name}")
async def update_template(request: Request, name: str) -> Response:
    _, data = await caller_and_body(request)
    sandbox: Sandbox = request.app.state.sandbox
    content = _content(data)
    template = template_store.Template(name, content["Subject"], content["Text"], content["Html"])
    if not await sandbox.db.write(lambda c: template_store.update(c, template)):
        raise _missing(name)
    return answer()


@router.delete("/v2/email/templates/{name}")
async def delete_template(request: Request, name: str) -> Response:
    authorize(request)
    sandbox: Sandbox = request.app.state.sandbox
    if not await sandbox.db.write(lambda c: template_store.delete(c, name)):
        raise _missing(name)
    return answer()


@router.post("/v2/email/templates/{name}/render")
async def render_template(request: Request, name: str) -> Response:
    _, data = await caller_and_body(request)
    sandbox: Sandbox = request.app.state.sandbox
    found = await sandbox.db.read(lambda c: template_store.get(c, name))
    if found is None:
        raise _missing(name)
    values = sending.template_data(str(required(data, "TemplateData")))
    rendered, failure = sending.render(found, values)
    if failure:
        raise SesError(MISSING_ATTRIBUTE, failure)
    return answer({"RenderedTemplate": test_render(rendered)})
