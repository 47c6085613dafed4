"""Postmark's send endpoints: ``POST /email``, ``/email/batch``, ``/email/withTemplate`` and
``/email/batchWithTemplates`` (with or without the trailing slash postmarker and django-anymail
send), the shared ingest path behind them.

A single send answers ``{"To", "SubmittedAt", "MessageID", "ErrorCode": 0, "Message": "OK"}``
once stored, or 422 with Postmark's error code; a batch (500 messages at most, code 410 above)
answers 200 with one such object per message, errors included, and stores the good ones.
Recipients on the stream's suppression list are not sent to: all of them inactive is error
406, some of them an "OK, but will not deliver to these inactive addresses" message (the
wording django-anymail parses). The test token ``POSTMARK_API_TEST`` gets the same checks and
"Test job accepted", and nothing is stored, as at Postmark.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from mailsandbox.emulators import handlebars
from mailsandbox.emulators.common.storing import store_all
from mailsandbox.emulators.postmark import sending, templates
from mailsandbox.emulators.postmark.errors import (
    FIELD_NOT_ALLOWED,
    INACTIVE_RECIPIENT,
    INVALID_TEMPLATE_FIELD,
    STREAM_NOT_ON_SERVER,
    TEMPLATE_NOT_FOUND,
    TOO_MANY_BATCH,
    PostmarkError,
    invalid,
)
from mailsandbox.emulators.postmark.streams import SENDING_TYPES, inactive_among, streams_of
from mailsandbox.emulators.postmark.templates import Template
from mailsandbox.emulators.postmark.wire import Caller, answer, authorize, body
from mailsandbox.ingest import Inbound
from mailsandbox.storage.sql import Connection

MAX_BATCH = 500
Templates = dict[str, tuple[Template, Template | None] | None]  # by id or alias: (it, layout)
TEMPLATE_FIELDS = ("Subject", "HtmlBody", "TextBody")


@dataclass
class Prepared:
    """One message of a request: its answer, and what to store (None: nothing)."""

    reply: dict[str, Any]
    inbound: Inbound | None = None


def _prepare(request: Request, caller: Caller, data: Any, templated: bool = False) -> Prepared:
    """Check one message and build what is stored; PostmarkError when it is refused."""
    out = sending.check(data)
    stream = streams_of(request).by_id.get(out.stream)
    if stream is None or stream.type not in SENDING_TYPES or stream.archived:
        raise PostmarkError(
            STREAM_NOT_ON_SERVER,
            f"The message stream '{out.stream}' was not found on this server, or does not"
            " send messages.",
        )
    if templated:
        out.template = {k: data[k] for k in ("TemplateId", "TemplateAlias") if data.get(k)}
    inactive = inactive_among(caller.sandbox, out.stream, out.recipients)
    if inactive and len(inactive) == len(out.recipients):
        raise PostmarkError(
            INACTIVE_RECIPIENT,
            "You tried to send to recipient(s) that have been marked as inactive.\n Found"
            f" inactive addresses: {', '.join(inactive)}. Inactive recipients are ones that"
            " have generated a hard bounce, a spam complaint, or a manual suppression. ",
        )
    message_id = sending.new_message_id()
    reply = sending.accepted(out, message_id, inactive)
    if caller.test:
        reply["Message"] = "Test job accepted"
        return Prepared(reply)
    hostname = caller.sandbox.settings.smtp_hostname
    return Prepared(reply, sending.build(out, message_id, caller.token, hostname))


async def _store(caller: Caller, prepared: list[Prepared]) -> None:
    await store_all(caller.sandbox, [p.inbound for p in prepared if p.inbound is not None])


async def send_email(request: Request) -> Response:
    caller = authorize(request)
    prepared = _prepare(request, caller, await body(request))
    await _store(caller, [prepared])
    return answer(prepared.reply)


def _one(request: Request, caller: Caller, data: Any, found: Templates | None = None) -> Prepared:
    """A batch element (a template send when ``found`` has the templates): refused ones answer
    with their error in place."""
    try:
        if found is None:
            return _prepare(request, caller, data)
        return _prepare(request, caller, _render(data, found), templated=True)
    except PostmarkError as exc:
        return Prepared(exc.body())


def _batch_items(data: Any, key: str | None = None) -> list[Any]:
    items = data.get(key) if key and isinstance(data, dict) else data
    if not isinstance(items, list):
        where = "a 'Messages' list" if key else "a JSON array of messages"
        raise invalid(f"Invalid batch request: expected {where}.")
    if len(items) > MAX_BATCH:
        raise PostmarkError(
            TOO_MANY_BATCH, f"Too many batch messages: at most {MAX_BATCH} per request."
        )
    return items


async def send_batch(request: Request) -> Response:
    caller = authorize(request)
    prepared = [_one(request, caller, m) for m in _batch_items(await body(request))]
    await _store(caller, prepared)
    return answer([p.reply for p in prepared])


# --- templates ---------------------------------------------------------------------------
def _template_key(data: dict[str, Any]) -> str:
    key = data.get("TemplateId") or data.get("TemplateAlias")
    if key is None or str(key).strip() == "":
        raise invalid("Either 'TemplateId' or 'TemplateAlias' is required.")
    return str(key)


def _render(data: Any, found: Templates) -> Any:
    """A template send as the plain send it amounts to (its template rendered into it)."""
    if not isinstance(data, dict):
        return data
    key = _template_key(data)
    given = [f for f in TEMPLATE_FIELDS if data.get(f)]
    if given:
        raise PostmarkError(
            FIELD_NOT_ALLOWED,
            f"The '{given[0]}' field is not allowed when sending with a template.",
        )
    pair = found.get(key)
    if pair is None:
        raise PostmarkError(
            TEMPLATE_NOT_FOUND,
            f"The template '{key}' associated with this request is not valid or was not found.",
        )
    model = data.get("TemplateModel")
    if model is None:
        model = {}
    if not isinstance(model, dict):
        raise invalid("The 'TemplateModel' field must be a JSON object.")
    try:
        rendered = templates.render(pair[0], pair[1], model)
    except handlebars.TemplateError as exc:
        raise PostmarkError(INVALID_TEMPLATE_FIELD, str(exc)) from exc
    return {**data, "Subject": rendered.subject, "HtmlBody": rendered.html,
            "TextBody": rendered.text}  # fmt: skip


async def _templates_for(caller: Caller, items: list[Any]) -> Templates:
    """The standard templates (and their layouts) the messages name, in one read."""
    keys = {
        str(m.get("TemplateId") or m.get("TemplateAlias"))
        for m in items
        if isinstance(m, dict) and (m.get("TemplateId") or m.get("TemplateAlias"))
    }

    def read(conn: Connection) -> Templates:
        out: Templates = {}
        for key in keys:
            t = templates.find(conn, key)
            if t is None or t.type != "Standard":
                out[key] = None
                continue
            layout = templates.find(conn, t.layout) if t.layout else None
            out[key] = (t, layout)
        return out

    return await caller.sandbox.db.read(read) if keys else {}


async def send_with_template(request: Request) -> Response:
    caller = authorize(request)
    data = await body(request)
    found = await _templates_for(caller, [data])
    prepared = _prepare(request, caller, _render(data, found), templated=True)
    await _store(caller, [prepared])
    return answer(prepared.reply)


async def send_batch_with_templates(request: Request) -> Response:
    caller = authorize(request)
    items = _batch_items(await body(request), "Messages")
    found = await _templates_for(caller, items)
    prepared = [_one(request, caller, item, found) for item in items]
    await _store(caller, prepared)
    return answer([p.reply for p in prepared])


ROUTES = [
    ("POST", "/email", send_email),
    ("POST", "/email/batch", send_batch),
    ("POST", "/email/batch/", send_batch),
    ("POST", "/email/withTemplate", send_with_template),
    ("POST", "/email/withTemplate/", send_with_template),
    ("POST", "/email/batchWithTemplates", send_batch_with_templates),
    ("POST", "/email/batchWithTemplates/", send_batch_with_templates),
]
