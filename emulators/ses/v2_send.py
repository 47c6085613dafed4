"""SES v2 ``SendEmail`` (``POST /v2/email/outbound-emails``) and ``SendBulkEmail``
(``POST /v2/email/outbound-bulk-emails``), what boto3 ``sesv2``, django-anymail's Amazon SES
backend and ``@aws-sdk/client-sesv2`` call. ``SendEmail`` is a direct route (see
``emulators.hot_routes``): it is the hot path.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mailsandbox.emulators.hot_routes import direct
from mailsandbox.emulators.ses import message_build, sending, template_store
from mailsandbox.emulators.ses.errors import BAD_REQUEST, SesError
from mailsandbox.emulators.ses.message_build import Structured
from mailsandbox.emulators.ses.sending import Destination, SendSpec, TemplateRef
from mailsandbox.emulators.ses.sigv4 import Caller
from mailsandbox.emulators.ses.v2_common import answer, caller_and_body, required, tags
from mailsandbox.runtime import Sandbox

router = APIRouter()
BULK_STATUS = {
    "MessageRejected": "MESSAGE_REJECTED",
    "BadRequestException": "INVALID_PARAMETER",
}


def _destination(data: Any) -> Destination:
    data = data if isinstance(data, dict) else {}
    return Destination(
        [str(a) for a in data.get("ToAddresses") or []],
        [str(a) for a in data.get("CcAddresses") or []],
        [str(a) for a in data.get("BccAddresses") or []],
    )


def _headers(items: Any) -> list[tuple[str, str]]:
    return [(str(h.get("Name", "")), str(h.get("Value", ""))) for h in items or []]


def _attachments(items: Any) -> list[dict[str, Any]]:
    return [message_build.attachment(item) for item in items or []]


def _text(part: Any) -> str:
    return str(part.get("Data", "")) if isinstance(part, dict) else ""


def _template(data: dict[str, Any]) -> TemplateRef:
    name = str(data.get("TemplateName") or "")
    arn = str(data.get("TemplateArn") or "")
    if not name and arn:
        name = arn.rsplit("/", 1)[-1]
    inline = data.get("TemplateContent")
    content = None
    if isinstance(inline, dict):
        content = template_store.Template(
            name or "inline",
            str(inline.get("Subject", "")),
            str(inline.get("Text", "")),
            str(inline.get("Html", "")),
        )
    elif not name:
        raise SesError(BAD_REQUEST, "Template name or content must be specified.")
    return TemplateRef(name, content, str(data.get("TemplateData") or "{}"))


def _common(caller: Caller, data: dict[str, Any], operation: str) -> SendSpec:
    override = (data.get("ConfigurationOverrides") or {}).get("Tracking")
    return SendSpec(
        caller=caller,
        api="v2",
        operation=operation,
        source=str(data.get("FromEmailAddress") or ""),
        reply_to=[str(a) for a in data.get("ReplyToAddresses") or []],
        feedback=str(data.get("FeedbackForwardingEmailAddress") or ""),
        config_set=str(data.get("ConfigurationSetName") or ""),
        list_management=data.get("ListManagementOptions"),
        tracking=override if isinstance(override, dict) else None,
    )


def read_send_email(caller: Caller, data: dict[str, Any]) -> SendSpec:
    spec = _common(caller, data, "SendEmail")
    spec.destination = _destination(data.get("Destination"))
    spec.tags = tags(data.get("EmailTags"))
    content = required(data, "Content")
    if not isinstance(content, dict) or len([k for k in content if content[k]]) != 1:
        raise SesError(BAD_REQUEST, "Exactly one of Simple, Raw or Template content is required.")
    if content.get("Raw"):
        try:
            spec.raw = base64.b64decode(_text(content["Raw"]), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SesError(BAD_REQUEST, "Raw message data must be base64-encoded.") from exc
        if not spec.raw:
            raise SesError(BAD_REQUEST, "Raw message data is empty.")
    elif content.get("Simple"):
        simple = content["Simple"]
        body = simple.get("Body") or {}
        spec.structured = Structured(
            subject=_text(simple.get("Subject")),
            text=_text(body.get("Text")),
            html=_text(body.get("Html")),
            headers=_headers(simple.get("Headers")),
            attachments=_attachments(simple.get("Attachments")),
        )
        if not spec.structured.text and not spec.structured.html:
            raise SesError(BAD_REQUEST, "Message body must have at least one of Text or Html.")
    else:
        template = content["Template"]
        spec.template = _template(template)
        spec.structured = Structured(
            headers=_headers(template.get("Headers")),
            attachments=_attachments(template.get("Attachments")),
        )
    if spec.raw is None and not spec.source:
        raise SesError(BAD_REQUEST, "FromEmailAddress is required.")
    return spec


@router.post("/v2/email/outbound-emails")
@direct  # served by a plain Starlette route (emulators.hot_routes): no Depends here
async def send_email(request: Request) -> Response:
    caller, data = await caller_and_body(request)
    sandbox: Sandbox = request.app.state.sandbox
    spec = read_send_email(caller, data)
    read = None
    if spec.raw is not None:
        spec, read = sending.read_raw(spec)
    sending.check_addresses(spec)
    found = await sending.context(sandbox, spec)
    message_id, inbound = sending.build(spec, found, read)
    await sending.ingest(sandbox, [inbound])
    return answer({"MessageId": message_id})


@router.post("/v2/email/outbound-bulk-emails")
async def send_bulk_email(request: Request) -> Response:
    caller, data = await caller_and_body(request)
    sandbox: Sandbox = request.app.state.sandbox
    base = _common(caller, data, "SendBulkEmail")
    template = (required(data, "DefaultContent") or {}).get("Template")
    if not isinstance(template, dict):
        raise SesError(BAD_REQUEST, "DefaultContent.Template is required.")
    default = _template(template)
    base.template = default
    base.tags = tags(data.get("DefaultEmailTags"), "DefaultEmailTags")
    entries = required(data, "BulkEmailEntries")
    found = await sending.context(sandbox, base)
    results: list[dict[str, Any]] = []
    inbounds = []
    for entry in entries:
        replacement = (
            (entry.get("ReplacementEmailContent") or {}).get("ReplacementTemplate")
        ) or {}
        data_text = sending.merged_data(default.data, replacement.get("ReplacementTemplateData"))
        spec = replace(
            base,
            destination=_destination(entry.get("Destination")),
            tags={**base.tags, **tags(entry.get("ReplacementTags"), "ReplacementTags")},
            template=TemplateRef(default.name, default.content, str(data_text)),
            structured=Structured(
                headers=_headers(template.get("Headers"))
                + _headers(entry.get("ReplacementHeaders")),
                attachments=_attachments(template.get("Attachments")),
            ),
        )
        try:
            sending.check_addresses(spec)
            sending.template_data(str(data_text))
        except SesError as exc:
            status = BULK_STATUS.get(exc.kind.json_code, "FAILED")
            results.append({"Status": status, "Error": exc.message})
            continue
        message_id, inbound = sending.build(spec, found)
        inbounds.append(inbound)
        results.append({"Status": "SUCCESS", "MessageId": message_id})
    await sending.ingest(sandbox, inbounds)
    return answer({"BulkEmailEntryResults": results})
