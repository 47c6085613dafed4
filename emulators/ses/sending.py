"""One SES send, whatever the API: checks, content, the stored message, its id.

SES v1 (``SendEmail``, ``SendRawEmail``, ``SendTemplatedEmail``, ``SendBulkTemplatedEmail``)
and v2 (``SendEmail``, ``SendBulkEmail``) requests are read into a :class:`SendSpec` by their
protocol's module; this one does the rest. A destination (one ``Destination``, or one bulk
entry) is one message with one ``MessageId``, stored through the shared ingest path with
source ``ses`` and ``{"ses": {...}}`` metadata (message id, operation, configuration set,
tags...). A template that cannot be rendered (an attribute its data lacks, as SES requires)
is still accepted and stored, but marked: the event engine then sends it to nobody and
publishes a Rendering Failure, as SES does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from mailsandbox.emulators import handlebars
from mailsandbox.emulators.common.addresses import addresses, entry, valid_address
from mailsandbox.emulators.common.storing import store_all
from mailsandbox.emulators.ses import aws, config_store, message_build, template_store
from mailsandbox.emulators.ses.account import ACCOUNT, Account
from mailsandbox.emulators.ses.errors import (
    ACCOUNT_PAUSED,
    BAD_REQUEST,
    CONFIG_SET_MISSING,
    CONFIG_SET_PAUSED,
    MESSAGE_REJECTED,
    TEMPLATE_MISSING,
    SesError,
)
from mailsandbox.emulators.ses.event_format import HEADERS_KEY
from mailsandbox.emulators.ses.message_build import Structured
from mailsandbox.emulators.ses.sigv4 import Caller
from mailsandbox.events.magic import SES_DOMAIN as SIMULATOR
from mailsandbox.events.magic import is_simulator
from mailsandbox.ingest import Inbound
from mailsandbox.runtime import Sandbox
from mailsandbox.storage.sql import Connection

MAX_RECIPIENTS = 50


@dataclass
class Destination:
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)

    @property
    def all(self) -> list[str]:
        return [*self.to, *self.cc, *self.bcc]


@dataclass
class TemplateRef:
    """A template send: stored (``name``) or inline (``content``), with its data (JSON text)."""

    name: str = ""
    content: template_store.Template | None = None
    data: str = "{}"


@dataclass
class SendSpec:
    caller: Caller
    api: str  # v1 | v2
    operation: str
    source: str = ""
    destination: Destination = field(default_factory=Destination)
    reply_to: list[str] = field(default_factory=list)
    feedback: str = ""  # v1 ReturnPath / v2 FeedbackForwardingEmailAddress
    tags: dict[str, str] = field(default_factory=dict)
    config_set: str = ""
    structured: Structured | None = None
    raw: bytes | None = None
    template: TemplateRef | None = None
    list_management: dict[str, Any] | None = None
    tracking: dict[str, Any] | None = None  # v2 ConfigurationOverrides.Tracking


@dataclass
class Context:
    """What a send needs from the store: its configuration set and template."""

    config_set: dict[str, Any] | None = None
    destinations: list[config_store.Destination] = field(default_factory=list)
    template: template_store.Template | None = None


def account(sandbox: Sandbox) -> Account:
    found: Account = sandbox.extensions[ACCOUNT]
    return found


async def save_account(sandbox: Sandbox) -> None:
    """Store the account settings changed in memory; the other replicas (team mode) reload
    them."""
    await sandbox.db.write(account(sandbox).save)
    sandbox.team.changed(ACCOUNT)


async def context(sandbox: Sandbox, spec: SendSpec) -> Context:
    """The configuration set and stored template of ``spec`` (no read when it names none);
    SesError when one does not exist or sending is paused."""
    if not account(sandbox).sending_enabled:
        raise SesError(ACCOUNT_PAUSED, "Sending is paused for this account.")
    name = spec.template.name if spec.template and spec.template.content is None else ""
    if not spec.config_set and not name:
        return Context()

    def read(conn: Connection) -> Context:
        found = Context()
        if spec.config_set:
            found.config_set = config_store.get_set(conn, spec.config_set)
            found.destinations = config_store.destinations(conn, spec.config_set)
        if name:
            found.template = template_store.get(conn, name)
        return found

    found = await sandbox.db.read(read)
    if spec.config_set:
        if found.config_set is None:
            raise SesError(
                CONFIG_SET_MISSING, f"Configuration set <{spec.config_set}> does not exist."
            )
        if (found.config_set.get("SendingOptions") or {}).get("SendingEnabled") is False:
            raise SesError(
                CONFIG_SET_PAUSED,
                f"Sending is paused for the configuration set <{spec.config_set}>.",
            )
    if name and found.template is None:
        raise SesError(TEMPLATE_MISSING, f"Template {name} does not exist.")
    return found


def check_addresses(spec: SendSpec) -> None:
    """SES's complaints about the addresses of one destination, in its order."""
    recipients = spec.destination.all
    for address in [spec.source, *recipients, *spec.reply_to]:
        if address and not valid_address(entry(address)["email"]):
            detail = "Missing final '@domain'" if "@" not in address else "Illegal address"
            raise SesError(BAD_REQUEST, detail)
    if not recipients:
        raise SesError(BAD_REQUEST, "Missing required header 'To'.")
    if len(recipients) > MAX_RECIPIENTS:
        raise SesError(BAD_REQUEST, f"Recipient count exceeds {MAX_RECIPIENTS}.")
    sender = entry(spec.source)["email"]
    if sender.lower().endswith(".invalid"):  # an identity no account can verify
        raise SesError(
            MESSAGE_REJECTED,
            "Email address is not verified. The following identities failed the check in"
            f" region {spec.caller.region.upper()}: {sender}",
        )


def template_data(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise SesError(BAD_REQUEST, "Template data must be a JSON object.")
    return data


def merged_data(default: str, replacement: Any) -> str:
    """A bulk entry's template data: its replacement values over the default ones (what
    django-anymail's ``merge_global_data`` relies on). Invalid JSON is left for
    :func:`template_data` to refuse."""
    if not replacement:
        return default
    try:
        base, extra = json.loads(default or "{}"), json.loads(str(replacement))
    except ValueError:
        return str(replacement)
    if not isinstance(base, dict) or not isinstance(extra, dict):
        return str(replacement)
    return json.dumps({**base, **extra})


def render(template: template_store.Template, data: dict[str, Any]) -> tuple[Structured, str]:
    """The rendered parts and, when SES would refuse to send them, why (else '')."""
    for part in (template.subject, template.text, template.html):
        name = handlebars.missing_attribute(part, data)
        if name is not None:
            failure = f"Attribute '{name}' is not present in the rendering data."
            break
    else:
        failure = ""
    try:
        parts = [handlebars.render(p, data, escape=False) for p in (template.subject,
                 template.text, template.html)]  # fmt: skip
    except handlebars.TemplateError as exc:
        return Structured(subject=template.subject), failure or str(exc)
    return Structured(subject=parts[0], text=parts[1], html=parts[2]), failure


def _tracking(spec: SendSpec, found: Context) -> dict[str, bool]:
    """Opens and clicks are tracked when the configuration set publishes them (or the send
    overrides it)."""
    types = {t for d in found.destinations if d.enabled for t in d.event_types}
    override = spec.tracking or {}
    opens = override.get("OpenTrackingEnabled", "ENABLED" if "OPEN" in types else "DISABLED")
    clicks = override.get("ClickTrackingEnabled", "ENABLED" if "CLICK" in types else "DISABLED")
    return {"open": opens == "ENABLED", "click": clicks == "ENABLED"}


def _metadata(spec: SendSpec, message_id: str, found: Context) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "message_id": message_id,
        "operation": spec.operation,
        "api": spec.api,
        "region": spec.caller.region,
        "source": spec.source,
        "caller": spec.caller.access_key,
    }
    optional = {
        "configuration_set": spec.config_set,
        "tags": spec.tags,
        "feedback_forwarding": spec.feedback,
        "reply_to": spec.reply_to,
        "list_management": spec.list_management,
        "template": spec.template.name if spec.template else "",
    }
    meta.update({k: v for k, v in optional.items() if v})
    if spec.config_set:
        meta["tracking"] = _tracking(spec, found)
    return meta


@dataclass
class RawMessage:
    """A raw send read ahead of the checks (its headers name recipients, a configuration set)."""

    message_id: str
    raw: bytes
    headers: list[tuple[str, str]]


def read_raw(spec: SendSpec) -> tuple[SendSpec, RawMessage]:
    """SES's own Message-ID and Date written in; its X-SES-* headers acted on; sender and
    recipients taken from the headers where the request gives none."""
    assert spec.raw is not None
    message_id = aws.new_message_id()
    header_id = f"{message_id}@{aws.message_id_domain(spec.caller.region)}"
    raw, headers = message_build.rewrite_raw(spec.raw, header_id)
    tags, config_set = dict(spec.tags), spec.config_set
    for name, value in headers:
        lowered = name.lower()
        if lowered == message_build.CONFIG_SET_HEADER and not config_set:
            config_set = value.strip()
        elif lowered == message_build.TAGS_HEADER:  # "name1=value1, name2=value2"
            for pair in value.split(","):
                key, sep, item = pair.partition("=")
                if sep and key.strip():
                    tags.setdefault(key.strip(), item.strip())
    kept = [(n, v) for n, v in headers if n.lower() not in message_build.REPLACED]
    spec = raw_envelope(replace(spec, tags=tags, config_set=config_set), kept)
    return spec, RawMessage(message_id, raw, kept)


def raw_envelope(spec: SendSpec, headers: list[tuple[str, str]]) -> SendSpec:
    """A raw send's sender and recipients from its headers where the request gives none."""
    fields: dict[str, list[str]] = {}
    for name, value in headers:
        fields.setdefault(name.lower(), []).append(value)
    dest = spec.destination
    if not dest.all:
        dest = Destination(fields.get("to", []), fields.get("cc", []), fields.get("bcc", []))
        dest = Destination(*(_split(group) for group in (dest.to, dest.cc, dest.bcc)))
    source = spec.source or next(iter(fields.get("from", [])), "")
    return replace(spec, destination=dest, source=source)


def _split(values: list[str]) -> list[str]:
    return [f"{n} <{a}>" if n else a for n, a in addresses(values) if a]


def build(spec: SendSpec, found: Context, read: RawMessage | None = None) -> tuple[str, Inbound]:
    """The message id and stored form of one destination of ``spec`` (already checked; a raw
    send already :func:`read_raw`)."""
    failure = ""
    headers: list[tuple[str, str]] = []
    parsed = None
    if read is not None:
        message_id, raw, headers = read.message_id, read.raw, read.headers
    else:
        message_id = aws.new_message_id()
        header_id = f"{message_id}@{aws.message_id_domain(spec.caller.region)}"
        content = spec.structured or Structured()
        if spec.template is not None:
            template = spec.template.content or found.template
            assert template is not None
            rendered, failure = render(template, template_data(spec.template.data))
            content = replace(rendered, headers=content.headers, attachments=content.attachments)
        dest = spec.destination
        raw, parsed = message_build.build(
            spec.source, dest.to, dest.cc, spec.reply_to, content, header_id
        )
        if spec.config_set:  # what the events list (only published through a set)
            headers = message_build.unfolded(message_build.fields(raw) or [])
    meta: dict[str, Any] = {"ses": _metadata(spec, message_id, found)}
    if failure:
        meta["ses"]["rendering_failure"] = failure
    if spec.config_set and headers:
        meta[HEADERS_KEY] = [[n, v] for n, v in headers]
    recipients = list(dict.fromkeys(entry(a)["email"] for a in spec.destination.all))
    inbound = Inbound(
        raw=raw,
        mail_from=entry(spec.source)["email"],
        rcpt_tos=recipients,
        source="ses",
        username=spec.caller.access_key,
        inbox=spec.caller.access_key or "default",
        tags=list(spec.tags.values()),
        metadata=meta,
        parsed=parsed,
    )
    return message_id, inbound


def simulator_replies(inbound: Inbound) -> list[Inbound]:
    """The automatic reply the mailbox simulator's ``ooto@`` sends back (RFC 3834), to the
    feedback address or else the sender, as received mail (source ``smtp``)."""
    if not any(r.lower().startswith("ooto") and is_simulator(r) for r in inbound.rcpt_tos):
        return []
    meta = inbound.metadata.get("ses") or {}
    to = str(meta.get("feedback_forwarding") or inbound.mail_from)
    region = str(meta.get("region") or aws.DEFAULT_REGION)
    original = f"<{meta.get('message_id')}@{aws.message_id_domain(region)}>"
    content = Structured(
        subject="Automatic reply: out of the office",
        text="I am out of the office and will reply when I am back.\n",
        headers=[("Auto-Submitted", "auto-replied"), ("In-Reply-To", original)],
    )
    reply_id = f"{aws.new_uuid()}@{SIMULATOR}"
    raw, parsed = message_build.build(f"ooto@{SIMULATOR}", [to], [], [], content, reply_id)
    reply = Inbound(raw=raw, mail_from=f"ooto@{SIMULATOR}", rcpt_tos=[to], parsed=parsed)
    reply.inbox = inbound.inbox
    return [reply]


async def ingest(sandbox: Sandbox, inbounds: list[Inbound]) -> None:
    """Store the messages (and the simulator's automatic replies); returns once all are
    committed (as SMTP, the 2xx follows)."""
    await store_all(sandbox, inbounds + [r for i in inbounds for r in simulator_replies(i)])
