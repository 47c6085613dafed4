"""SES v1 (Query protocol, what boto3 ``ses`` and django-ses call): the four sends, the quota
and statistics django-ses reads, templates, configuration sets with event destinations, account
sending, and identity verification (every identity counts as verified).

Templates and configuration sets are the same stores as v2's, as in SES.
"""

from __future__ import annotations

import base64
import binascii
import time
from dataclasses import replace
from typing import Any

from mailsandbox.emulators.common.events import iso_ms
from mailsandbox.emulators.ses import aws, config_store, sending, template_store
from mailsandbox.emulators.ses.errors import (
    BAD_REQUEST,
    CONFIG_SET_EXISTS,
    DESTINATION_EXISTS,
    DESTINATION_MISSING,
    MISSING_ATTRIBUTE,
    TEMPLATE_EXISTS,
    TEMPLATE_MISSING,
    SesError,
)
from mailsandbox.emulators.ses.message_build import Structured
from mailsandbox.emulators.ses.paging import page
from mailsandbox.emulators.ses.query import XmlMap
from mailsandbox.emulators.ses.query_context import Action, QueryContext
from mailsandbox.emulators.ses.rendering import test_render
from mailsandbox.emulators.ses.sending import Destination, SendSpec, TemplateRef
from mailsandbox.emulators.ses.v2_common import tags
from mailsandbox.emulators.ses.v2_config import MAX_24_HOUR_SEND, MAX_SEND_RATE, set_missing
from mailsandbox.storage.sql import Connection

V1_TYPES = {
    "send": "SEND",
    "reject": "REJECT",
    "bounce": "BOUNCE",
    "complaint": "COMPLAINT",
    "delivery": "DELIVERY",
    "open": "OPEN",
    "click": "CLICK",
    "renderingFailure": "RENDERING_FAILURE",
    "deliveryDelay": "DELIVERY_DELAY",
    "subscription": "SUBSCRIPTION",
}
BULK_STATUS = {
    "MessageRejected": "MessageRejected",
    "InvalidParameterValue": "InvalidParameterValue",
}


def _list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _destination(value: Any) -> Destination:
    value = value if isinstance(value, dict) else {}
    return Destination(
        _list(value.get("ToAddresses")),
        _list(value.get("CcAddresses")),
        _list(value.get("BccAddresses")),
    )


def _tags(value: Any) -> dict[str, str]:
    return tags(value if isinstance(value, list) else [], "Tags")


def _spec(ctx: QueryContext, operation: str) -> SendSpec:
    return SendSpec(
        caller=ctx.caller,
        api="v1",
        operation=operation,
        source=str(ctx.get("Source", "")),
        destination=_destination(ctx.get("Destination")),
        reply_to=_list(ctx.get("ReplyToAddresses")),
        feedback=str(ctx.get("ReturnPath", "")),
        tags=_tags(ctx.get("Tags")),
        config_set=str(ctx.get("ConfigurationSetName", "")),
    )


def _text(node: Any) -> str:
    return str(node.get("Data", "")) if isinstance(node, dict) else ""


async def _send_one(ctx: QueryContext, spec: SendSpec, read: Any = None) -> dict[str, Any]:
    sending.check_addresses(spec)
    found = await sending.context(ctx.sandbox, spec)
    message_id, inbound = sending.build(spec, found, read)
    await sending.ingest(ctx.sandbox, [inbound])
    return {"MessageId": message_id}


async def send_email(ctx: QueryContext) -> dict[str, Any]:
    spec = _spec(ctx, "SendEmail")
    ctx.require("Source")
    message = ctx.require("Message")
    body = message.get("Body") or {}
    spec.structured = Structured(
        subject=_text(message.get("Subject")),
        text=_text(body.get("Text")),
        html=_text(body.get("Html")),
    )
    return await _send_one(ctx, spec)


async def send_raw_email(ctx: QueryContext) -> dict[str, Any]:
    spec = _spec(ctx, "SendRawEmail")
    spec.destination = Destination(_list(ctx.get("Destinations")))
    data = _text(ctx.require("RawMessage"))
    try:
        spec.raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SesError(BAD_REQUEST, "Invalid base64 in RawMessage.Data.") from exc
    spec, read = sending.read_raw(spec)
    return await _send_one(ctx, spec, read)


async def send_templated_email(ctx: QueryContext) -> dict[str, Any]:
    spec = _spec(ctx, "SendTemplatedEmail")
    ctx.require("Source")
    name = str(ctx.get("Template") or str(ctx.get("TemplateArn", "")).rsplit("/", 1)[-1])
    if not name:
        ctx.require("Template")
    spec.template = TemplateRef(name, None, str(ctx.require("TemplateData")))
    sending.template_data(spec.template.data)
    return await _send_one(ctx, spec)


async def send_bulk_templated_email(ctx: QueryContext) -> dict[str, Any]:
    base = _spec(ctx, "SendBulkTemplatedEmail")
    ctx.require("Source")
    name = str(ctx.require("Template"))
    default = str(ctx.require("DefaultTemplateData"))
    base.tags = _tags(ctx.get("DefaultTags"))
    base.template = TemplateRef(name, None, default)
    found = await sending.context(ctx.sandbox, base)
    statuses: list[dict[str, Any]] = []
    inbounds = []
    for item in ctx.get("Destinations") or []:
        spec = replace(
            base,
            destination=_destination(item.get("Destination")),
            tags={**base.tags, **_tags(item.get("ReplacementTags"))},
            template=TemplateRef(
                name, None, sending.merged_data(default, item.get("ReplacementTemplateData"))
            ),
        )
        try:
            sending.check_addresses(spec)
            sending.template_data(spec.template.data if spec.template else "{}")
        except SesError as exc:
            code = exc.kind.query_code
            statuses.append({"Status": BULK_STATUS.get(code, "Failed"), "Error": exc.message})
            continue
        message_id, inbound = sending.build(spec, found)
        inbounds.append(inbound)
        statuses.append({"Status": "Success", "MessageId": message_id})
    await sending.ingest(ctx.sandbox, inbounds)
    return {"Status": statuses}


async def get_send_quota(ctx: QueryContext) -> dict[str, Any]:
    def read(conn: Connection) -> int:
        since = time.time() - 86400
        row = conn.execute(
            "SELECT COUNT(*) FROM messages WHERE source = 'ses' AND created >= ?", (since,)
        ).fetchone()
        return int(row[0])

    sent = await ctx.sandbox.db.read(read)
    return {
        "Max24HourSend": MAX_24_HOUR_SEND,
        "MaxSendRate": MAX_SEND_RATE,
        "SentLast24Hours": float(sent),
    }


async def get_send_statistics(ctx: QueryContext) -> dict[str, Any]:
    def read(conn: Connection) -> dict[str, int]:
        since = time.time() - 14 * 86400
        rows = conn.execute(
            "SELECT type, COUNT(*) FROM events WHERE provider = 'ses' AND created >= ?"
            " GROUP BY type",
            (since,),
        ).fetchall()
        return {row[0]: int(row[1]) for row in rows}

    counts = await ctx.sandbox.db.read(read)
    point = {
        "Timestamp": iso_ms(time.time()),
        "DeliveryAttempts": counts.get("queued", 0),
        "Bounces": counts.get("bounced", 0),
        "Complaints": counts.get("complained", 0),
        "Rejects": counts.get("rejected", 0),
    }
    return {
        "SendDataPoints": [point] if any(v for k, v in point.items() if k != "Timestamp") else []
    }


def _template(node: Any) -> template_store.Template:
    if not isinstance(node, dict) or not node.get("TemplateName"):
        raise SesError(BAD_REQUEST, "Template name is required.")
    return template_store.Template(
        str(node["TemplateName"]),
        str(node.get("SubjectPart", "")),
        str(node.get("TextPart", "")),
        str(node.get("HtmlPart", "")),
    )


def _template_missing(name: str) -> SesError:
    return SesError(TEMPLATE_MISSING, f"Template {name} does not exist.")


async def create_template(ctx: QueryContext) -> dict[str, Any]:
    template = _template(ctx.require("Template"))
    if not await ctx.sandbox.db.write(lambda c: template_store.create(c, template)):
        raise SesError(TEMPLATE_EXISTS, f"Template {template.name} already exists.")
    return {}


async def update_template(ctx: QueryContext) -> dict[str, Any]:
    template = _template(ctx.require("Template"))
    if not await ctx.sandbox.db.write(lambda c: template_store.update(c, template)):
        raise _template_missing(template.name)
    return {}


async def get_template(ctx: QueryContext) -> dict[str, Any]:
    name = str(ctx.require("TemplateName"))
    found = await ctx.sandbox.db.read(lambda c: template_store.get(c, name))
    if found is None:
        raise _template_missing(name)
    parts = {"SubjectPart": found.subject, "TextPart": found.text, "HtmlPart": found.html}
    return {"Template": {"TemplateName": found.name, **{k: v for k, v in parts.items() if v}}}


async def delete_template(ctx: QueryContext) -> dict[str, Any]:
    name = str(ctx.require("TemplateName"))
    await ctx.sandbox.db.write(lambda c: template_store.delete(c, name))
    return {}  # SES v1 answers success for a template that does not exist


async def list_templates(ctx: QueryContext) -> dict[str, Any]:
    after, size = page(ctx.get("NextToken"), ctx.get("MaxItems"))
    rows = await ctx.sandbox.db.read(lambda c: template_store.names(c, after, size + 1))
    out: dict[str, Any] = {
        "TemplatesMetadata": [{"Name": n, "CreatedTimestamp": iso_ms(t)} for n, t in rows[:size]]
    }
    if len(rows) > size:
        out["NextToken"] = rows[size - 1][0]
    return out


async def test_render_template(ctx: QueryContext) -> dict[str, Any]:
    name = str(ctx.require("TemplateName"))
    data = sending.template_data(str(ctx.require("TemplateData")))
    found = await ctx.sandbox.db.read(lambda c: template_store.get(c, name))
    if found is None:
        raise _template_missing(name)
    rendered, failure = sending.render(found, data)
    if failure:
        raise SesError(MISSING_ATTRIBUTE, failure)
    return {"RenderedTemplate": test_render(rendered)}


def _event_destination(node: Any) -> config_store.Destination:
    if not isinstance(node, dict) or not node.get("Name"):
        raise SesError(BAD_REQUEST, "Event destination name is required.")
    types = []
    for name in _list(node.get("MatchingEventTypes")):
        if name not in V1_TYPES:
            raise SesError(BAD_REQUEST, f"Invalid event type: {name}")
        types.append(V1_TYPES[name])
    topic = str((node.get("SNSDestination") or {}).get("TopicARN") or "")
    definition: dict[str, Any] = {"Enabled": str(node.get("Enabled", "false")) == "true"}
    definition["MatchingEventTypes"] = types
    if topic:
        definition["SnsDestination"] = {"TopicArn": topic}
    return config_store.Destination(
        str(node["Name"]), definition["Enabled"], types, topic, definition
    )


def _v1_destination(dest: config_store.Destination) -> dict[str, Any]:
    names = {v: k for k, v in V1_TYPES.items()}
    out: dict[str, Any] = {
        "Name": dest.name,
        "Enabled": dest.enabled,
        "MatchingEventTypes": [names[t] for t in dest.event_types],
    }
    if dest.topic_arn:
        out["SNSDestination"] = {"TopicARN": dest.topic_arn}
    return out


async def create_configuration_set(ctx: QueryContext) -> dict[str, Any]:
    name = str((ctx.require("ConfigurationSet") or {}).get("Name") or "")
    if not name:
        raise SesError(BAD_REQUEST, "Configuration set name is required.")
    if not await ctx.sandbox.db.write(lambda c: config_store.create_set(c, name, {})):
        raise SesError(CONFIG_SET_EXISTS, f"Configuration set <{name}> already exists.")
    return {}


async def delete_configuration_set(ctx: QueryContext) -> dict[str, Any]:
    name = str(ctx.require("ConfigurationSetName"))
    if not await ctx.sandbox.db.write(lambda c: config_store.delete_set(c, name)):
        raise set_missing(name)
    return {}


async def describe_configuration_set(ctx: QueryContext) -> dict[str, Any]:
    name = str(ctx.require("ConfigurationSetName"))

    def read(conn: Connection) -> list[config_store.Destination] | None:
        if config_store.get_set(conn, name) is None:
            return None
        return config_store.destinations(conn, name)

    found = await ctx.sandbox.db.read(read)
    if found is None:
        raise set_missing(name)
    return {
        "ConfigurationSet": {"Name": name},
        "EventDestinations": [_v1_destination(d) for d in found],
    }


async def list_configuration_sets(ctx: QueryContext) -> dict[str, Any]:
    after, size = page(ctx.get("NextToken"), ctx.get("MaxItems"))
    names = await ctx.sandbox.db.read(lambda c: config_store.set_names(c, after, size + 1))
    out: dict[str, Any] = {"ConfigurationSets": [{"Name": n} for n in names[:size]]}
    if len(names) > size:
        out["NextToken"] = names[size - 1]
    return out


async def _save_destination(ctx: QueryContext, create: bool) -> dict[str, Any]:
    name = str(ctx.require("ConfigurationSetName"))
    dest = _event_destination(ctx.require("EventDestination"))

    def write(conn: Connection) -> str:
        if config_store.get_set(conn, name) is None:
            return "set"
        exists = any(d.name == dest.name for d in config_store.destinations(conn, name))
        if exists == create:
            return "exists" if create else "missing"
        config_store.save_destination(conn, name, dest)
        return ""

    outcome = await ctx.sandbox.db.write(write)
    if outcome == "set":
        raise set_missing(name)
    if outcome == "exists":
        raise SesError(DESTINATION_EXISTS, f"Event destination {dest.name} already exists.")
    if outcome == "missing":
        raise SesError(DESTINATION_MISSING, f"Event destination {dest.name} does not exist.")
    return {}


async def create_event_destination(ctx: QueryContext) -> dict[str, Any]:
    return await _save_destination(ctx, create=True)


async def update_event_destination(ctx: QueryContext) -> dict[str, Any]:
    return await _save_destination(ctx, create=False)


async def delete_event_destination(ctx: QueryContext) -> dict[str, Any]:
    name = str(ctx.require("ConfigurationSetName"))
    dest = str(ctx.require("EventDestinationName"))
    if not await ctx.sandbox.db.write(lambda c: config_store.delete_destination(c, name, dest)):
        raise SesError(DESTINATION_MISSING, f"Event destination {dest} does not exist.")
    return {}


async def update_account_sending_enabled(ctx: QueryContext) -> None:
    state = sending.account(ctx.sandbox)
    state.sending_enabled = str(ctx.get("Enabled", "false")).lower() == "true"
    await sending.save_account(ctx.sandbox)
    return None


async def get_account_sending_enabled(ctx: QueryContext) -> dict[str, Any]:
    return {"Enabled": sending.account(ctx.sandbox).sending_enabled}


async def verify_identity(ctx: QueryContext) -> dict[str, Any]:
    return {"VerificationToken": aws.new_uuid().replace("-", "")} if ctx.get("Domain") else {}


async def list_identities(ctx: QueryContext) -> dict[str, Any]:
    return {"Identities": []}


async def get_verification_attributes(ctx: QueryContext) -> dict[str, Any]:
    names = _list(ctx.get("Identities"))
    status = XmlMap({n: {"VerificationStatus": "Success"} for n in names})
    return {"VerificationAttributes": status}


ACTIONS: dict[str, Action] = {
    "SendEmail": send_email,
    "SendRawEmail": send_raw_email,
    "SendTemplatedEmail": send_templated_email,
    "SendBulkTemplatedEmail": send_bulk_templated_email,
    "GetSendQuota": get_send_quota,
    "GetSendStatistics": get_send_statistics,
    "CreateTemplate": create_template,
    "UpdateTemplate": update_template,
    "GetTemplate": get_template,
    "DeleteTemplate": delete_template,
    "ListTemplates": list_templates,
    "TestRenderTemplate": test_render_template,
    "CreateConfigurationSet": create_configuration_set,
    "DeleteConfigurationSet": delete_configuration_set,
    "DescribeConfigurationSet": describe_configuration_set,
    "ListConfigurationSets": list_configuration_sets,
    "CreateConfigurationSetEventDestination": create_event_destination,
    "UpdateConfigurationSetEventDestination": update_event_destination,
    "DeleteConfigurationSetEventDestination": delete_event_destination,
    "UpdateAccountSendingEnabled": update_account_sending_enabled,
    "GetAccountSendingEnabled": get_account_sending_enabled,
    "VerifyEmailIdentity": verify_identity,
    "VerifyEmailAddress": verify_identity,
    "VerifyDomainIdentity": verify_identity,
    "ListIdentities": list_identities,
    "GetIdentityVerificationAttributes": get_verification_attributes,
}
