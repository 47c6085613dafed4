"""Inbound mail in the UI: Compose and Reply (send a message *in*, as a user of the app would),
and the message page's "Inbound routing" section (which rules matched, where each of their
deliveries stands; it refreshes itself while a delivery is on its way).

``GET /ui/compose`` is the form (``?reply=ID`` fills it as a reply to that message, ``?inbox=``
picks the inbox); ``POST /ui/compose`` (same-origin only, ``multipart/form-data`` with any number
of ``attachments``) goes through the same code as ``POST /api/v1/inbound`` and redirects to the
new message. A mistake in the form shows the form again with the error (status 400).
"""

from __future__ import annotations

import base64
from email.utils import formataddr, getaddresses
from typing import Any

from fastapi import APIRouter, Depends, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import UploadFile

from mailsandbox import mime
from mailsandbox.api.security import USER_SCOPE_KEY
from mailsandbox.inbound import compose, records
from mailsandbox.storage.messages import MessageSummary
from mailsandbox.storage.sql import Connection
from mailsandbox.web.guard import local_path, require_same_origin
from mailsandbox.web.queries import WebhookLog
from mailsandbox.web.render import UI, get_ui

PATH = "/ui/compose"
TEXT_FIELDS = ("from", "to", "cc", "subject", "text", "html", "in_reply_to", "inbox", "back")
router = APIRouter(include_in_schema=False)
actions = APIRouter(include_in_schema=False, dependencies=[Depends(require_same_origin)])


def _shown(person: dict[str, str]) -> str:
    return formataddr((person.get("Name", ""), person.get("Email", "")))


def _reply_form(conn: Connection, message_id: str) -> dict[str, Any] | None:
    """The form's fields for a reply to a stored message (None if it is not stored)."""
    found = records.stored_message(conn, message_id)
    if found is None:
        return None
    original, raw = found
    defaults = compose.reply_headers(original)
    intro, quoted = compose.quote(original, mime.parse_message(raw))
    return {
        "from": _shown(defaults["from"]),
        "to": ", ".join(_shown(p) for p in defaults["to"]),
        "subject": defaults["subject"],
        "in_reply_to": original.id,
        "inbox": original.inbox,
        "back": f"/view/{original.id}",
        "quote": f"{intro}\n{quoted}",
        "original": original,
    }


def _people(text: str) -> list[dict[str, str]]:
    return [{"Email": a, "Name": n} for n, a in getaddresses([text]) if a]


async def _attachments(form: Any) -> list[dict[str, str]]:
    files = []
    for upload in form.getlist("attachments"):
        if isinstance(upload, UploadFile) and upload.filename:
            data = await upload.read()
            item = {"Filename": upload.filename, "Content": base64.b64encode(data).decode()}
            if upload.content_type and upload.content_type != "application/octet-stream":
                item["ContentType"] = upload.content_type
            files.append(item)
    return files


def body_of(fields: dict[str, str], attachments: list[dict[str, str]]) -> dict[str, Any]:
    """The ``POST /api/v1/inbound`` body (keys in lower case) a submitted form describes."""
    body: dict[str, Any] = {"subject": fields.get("subject", ""), "text": fields.get("text", "")}
    sender = _people(fields.get("from", ""))
    if sender:
        body["from"] = sender[0]
    for key in ("to", "cc"):
        if _people(fields.get(key, "")):
            body[key] = _people(fields[key])
    for key, target in (("html", "html"), ("in_reply_to", "inreplyto"), ("inbox", "inbox")):
        if fields.get(key, "").strip():
            body[target] = fields[key].strip() if key != "html" else fields[key]
    if attachments:
        body["attachments"] = attachments
    return body


async def _form_page(
    ui: UI, fields: dict[str, Any], error: str = "", status: int = 200
) -> Response:
    context = {"f": fields, "error": error, "original": fields.get("original")}
    return ui.page("compose.html", context, status_code=status)


@router.get(PATH)
async def compose_page(ui: UI = Depends(get_ui)) -> Response:
    params = ui.request.query_params
    reply_id = params.get("reply", "")
    if reply_id:
        found = await ui.sandbox.db.read(lambda conn: _reply_form(conn, reply_id))
        if found is None:
            missing = {"back": "/", "inbox": ""}
            return await _form_page(ui, missing, "That message is not stored (any more).", 404)
        fields = found
    else:
        back = local_path(params.get("back", "/"))
        fields = {"inbox": params.get("inbox", ""), "back": back}
    return await _form_page(ui, fields)


@actions.post(PATH)
async def compose_send(ui: UI = Depends(get_ui)) -> Response:
    form = await ui.request.form(max_files=100)
    values = {k: form.get(k, "") for k in TEXT_FIELDS}
    fields = {k: v for k, v in values.items() if isinstance(v, str)}
    body = body_of(fields, await _attachments(form))
    try:
        inbound = await compose.prepare(ui.sandbox, body, ui.request.scope.get(USER_SCOPE_KEY, ""))
    except compose.OriginalNotFound:
        return await _form_page(ui, fields, "The message you reply to was deleted.", 400)
    except Exception as exc:  # the builder's refusal, said on the form
        return await _form_page(ui, fields, str(exc), 400)
    summary: MessageSummary = await ui.sandbox.mailbox.ingest(inbound)
    return RedirectResponse(f"/view/{summary.id}", status_code=303)


@router.get("/ui/message/{message_id}/inbound")
async def inbound_section(message_id: str, ui: UI = Depends(get_ui)) -> Response:
    return ui.page("_inbound.html", await inbound_context(ui, message_id))


async def inbound_context(ui: UI, message_id: str) -> dict[str, Any]:
    """What ``_inbound.html`` shows for a message (its page includes it)."""
    visible = ui.visible
    view = await ui.sandbox.db.read(lambda conn: records.load(conn, message_id, visible))
    pending = [d for m in (view.matches if view else []) for d in m.deliveries]
    pending = [d for d in pending if d["status"] == "pending"]
    soonest = min((d["next_attempt"] for d in pending), default=None)
    recheck = WebhookLog([], len(pending), soonest).recheck_ms()
    return {"inbound": view, "message_id": message_id, "inbound_recheck": recheck}
