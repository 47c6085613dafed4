"""Validating a Mailgun send request (form fields → :class:`SendRequest`), with Mailgun's
400 messages. Shared by ``/messages`` and ``/messages.mime`` (the ``o:``/``h:``/``v:`` options).

The messages are those of the error table in mailgun/documentation ``source/api-sending.rst``
("Error codes"), except where the live service is known to say otherwise: it quotes parameter
names (``'from' parameter is missing``, mailgun.js#92; ``'from' parameter is not a valid
address. please check documentation``, fastlane#8568, anymail users) and names every body
field (``Need at least one of 'text', 'html', 'amp-html' or 'template' parameters specified``,
django-anymail#424, 2025). docs/mailgun.md lists them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

from mailsandbox.emulators.common.addresses import addresses, valid_address
from mailsandbox.emulators.mailgun.errors import bad_request, not_json, parse_json
from mailsandbox.emulators.mailgun.forms import FilePart, Form, boolean

MAX_TAGS = 3
MAX_TAG_LENGTH = 128
MAX_OPTIONS_BYTES = 16 * 1024  # "Sending options (those prefixed by o:, h:, or v:) ... 16 kB"
MAX_RECIPIENTS = 1000  # per message, and per batch ("maximum ... for Batch Sending is 1,000")
MAX_SCHEDULE_AHEAD = 3 * 86400  # "Messages can be scheduled for a maximum of 3 days"
TOO_MANY_RECIPIENTS = "Too many recipients, max is 1000"
OPTIONS_TOO_BIG = "Send options (parameters starting with o:, h:, or v:) are limited to 16 kB total"
HTML_AND_TEMPLATE = "Only one parameters 'html' or 'template' is allowed"
NO_BODY = "Need at least one of 'text', 'html', 'amp-html' or 'template' parameters specified"
# not in the error table: the note of api-sending.rst is the sandbox's answer [unverified]
TOO_FAR_AHEAD = "Messages can be scheduled for a maximum of 3 days in the future"
_CLICKS = {"yes": "yes", "true": "yes", "no": "no", "false": "no", "htmlonly": "htmlonly"}

Address = tuple[str, str]


@dataclass
class Options:
    """The ``o:``, ``h:`` and ``v:`` parts of a send."""

    tags: list[str] = field(default_factory=list)
    testmode: bool = False
    deliverytime: str = ""
    scheduled_for: float | None = None  # o:deliverytime as epoch seconds
    tracking_opens: bool = False
    tracking_clicks: str = "no"
    require_tls: bool = False
    skip_verification: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    user_variables: dict[str, Any] = field(default_factory=dict)

    def metadata(self, message_id: str, domain: str) -> dict[str, Any]:
        return {
            "id": f"<{message_id}>",
            "domain": domain,
            "tags": self.tags,
            "user_variables": self.user_variables,
            "testmode": self.testmode,
            "tracking": {"opens": self.tracking_opens, "clicks": self.tracking_clicks},
            "deliverytime": self.deliverytime,
            "scheduled_for": self.scheduled_for,
            "require_tls": self.require_tls,
            "skip_verification": self.skip_verification,
        }


@dataclass
class SendRequest:
    sender: Address
    to: list[Address]
    cc: list[Address]
    bcc: list[Address]
    subject: str
    text: str
    html: str
    amp_html: str
    template: str
    template_version: str
    template_text: bool
    template_variables: dict[str, Any]
    recipient_variables: dict[str, Any] | None
    options: Options
    attachments: list[FilePart]
    inlines: list[FilePart]


def _check_size(form: Form) -> None:
    size = sum(
        len(k.encode()) + sum(len(v.encode()) for v in values)
        for k, values in form.fields.items()
        if k[:2] in ("o:", "h:", "v:")
    )
    if size > MAX_OPTIONS_BYTES:
        raise bad_request(OPTIONS_TOO_BIG)


def _tags(form: Form) -> list[str]:
    tags = [t for t in form.all("o:tag") if t.strip()]
    if len(tags) > MAX_TAGS:
        raise bad_request(f"Too many tags: a message can have at most {MAX_TAGS} tags")
    for tag in tags:
        if len(tag) > MAX_TAG_LENGTH or not tag.isascii():
            raise bad_request(f"Invalid tag: {tag!r} (ASCII, at most {MAX_TAG_LENGTH} chars)")
    return tags


def delivery_epoch(value: str) -> float:
    """``o:deliverytime``: RFC 2822 (a date without a zone is UTC) or Unix epoch seconds (user
    manual, "Scheduling Delivery"); ValueError otherwise."""
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError) as exc:
        raise ValueError(text) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _deliverytime(value: str) -> float | None:
    if not value.strip():
        return None
    try:
        when = delivery_epoch(value)
    except ValueError as exc:
        raise bad_request(f"{value} is not an RFC-2822 compliant date") from exc
    if when > time.time() + MAX_SCHEDULE_AHEAD:
        raise bad_request(TOO_FAR_AHEAD)
    return when


def parse_options(form: Form) -> Options:
    _check_size(form)
    tracking = form.first("o:tracking")
    on = boolean(tracking, "o:tracking") if tracking else False
    clicks = form.first("o:tracking-clicks", "yes" if on else "no").strip().lower()
    if clicks not in _CLICKS:
        raise bad_request(f"'o:tracking-clicks' parameter is not valid: {clicks}")
    opens = form.first("o:tracking-opens")
    headers = form.prefixed("h:")
    variables: dict[str, Any] = {}
    header_vars = headers.get("X-Mailgun-Variables")
    if header_vars:
        decoded = parse_json(header_vars, "h:X-Mailgun-Variables")
        if isinstance(decoded, dict):
            variables.update(decoded)
    variables.update(form.prefixed("v:"))
    delivery = form.first("o:deliverytime")
    return Options(
        tags=_tags(form),
        testmode=boolean(form.first("o:testmode", "no"), "o:testmode"),
        deliverytime=delivery,
        scheduled_for=_deliverytime(delivery),
        tracking_opens=boolean(opens, "o:tracking-opens") if opens else on,
        tracking_clicks=_CLICKS[clicks],
        require_tls=boolean(form.first("o:require-tls", "no"), "o:require-tls"),
        skip_verification=boolean(form.first("o:skip-verification", "no"), "o:skip-verification"),
        headers=headers,
        user_variables=variables,
    )


def recipients(form: Form, name: str, required: bool = False) -> list[Address]:
    values = form.all(name)
    if required and not any(v.strip() for v in values):
        raise bad_request(f"'{name}' parameter is missing")
    found = addresses(values)
    if any(not valid_address(addr) for _, addr in found):
        raise bad_request(f"'{name}' parameter is not a valid address. please check documentation")
    return found


def _json_dict(form: Form, name: str) -> dict[str, Any] | None:
    text = form.first(name)
    if not text:
        return None
    value = parse_json(text, name)
    if not isinstance(value, dict):
        raise not_json(name)
    return value


def parse_send(form: Form) -> SendRequest:
    """Validate a ``/messages`` form in Mailgun's order of complaints."""
    if not form.first("from").strip():
        raise bad_request("'from' parameter is missing")
    senders = recipients(form, "from")
    if len(senders) != 1:
        raise bad_request("'from' parameter is not a valid address. please check documentation")
    to = recipients(form, "to", required=True)
    cc, bcc = recipients(form, "cc"), recipients(form, "bcc")
    text, html, amp = form.first("text"), form.first("html"), form.first("amp-html")
    template = form.first("template").strip()
    if not (text.strip() or html.strip() or amp.strip() or template):
        raise bad_request(NO_BODY)
    if html.strip() and template:
        raise bad_request(HTML_AND_TEMPLATE)
    batch = _json_dict(form, "recipient-variables")
    count = len(to) if batch is not None else len(to) + len(cc) + len(bcc)
    if count > MAX_RECIPIENTS:
        raise bad_request(TOO_MANY_RECIPIENTS)
    t_text = form.first("t:text")
    return SendRequest(
        sender=senders[0],
        to=to,
        cc=cc,
        bcc=bcc,
        subject=form.first("subject"),
        text=text,
        html=html,
        amp_html=amp,
        template=template,
        template_version=form.first("t:version").strip(),
        template_text=boolean(t_text, "t:text") if t_text else False,
        template_variables=_json_dict(form, "t:variables") or {},
        recipient_variables=batch,
        options=parse_options(form),
        attachments=form.files_named("attachment"),
        inlines=form.files_named("inline"),
    )
