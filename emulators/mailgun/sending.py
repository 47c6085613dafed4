"""Validating a Mailgun send request (form fields → :class:`SendRequest`), with Mailgun's
400 messages. Shared by ``/messages`` and ``/messages.mime`` (the ``o:``/``h:``/``v:`` options).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

from mailsandbox.emulators.common.addresses import addresses, valid_address
from mailsandbox.emulators.mailgun.errors import bad_request, parse_json
from mailsandbox.emulators.mailgun.forms import FilePart, Form, boolean

MAX_TAGS = 3
MAX_TAG_LENGTH = 128
MAX_OPTIONS_BYTES = 16 * 1024
MAX_BATCH = 1000
_CLICKS = {"yes": "yes", "true": "yes", "no": "no", "false": "no", "htmlonly": "htmlonly"}

Address = tuple[str, str]


@dataclass
class Options:
    """The ``o:``, ``h:`` and ``v:`` parts of a send."""

    tags: list[str] = field(default_factory=list)
    testmode: bool = False
    deliverytime: str = ""
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
        len(k) + sum(len(v) for v in values)
        for k, values in form.fields.items()
        if k[:2] in ("o:", "h:", "v:", "t:")
    )
    if size > MAX_OPTIONS_BYTES:
        raise bad_request("Size of your options (o:, h:, v:, t:) exceeds 16KB limit")


def _tags(form: Form) -> list[str]:
    tags = [t for t in form.all("o:tag") if t.strip()]
    if len(tags) > MAX_TAGS:
        raise bad_request(f"Too many tags: a message can have at most {MAX_TAGS} tags")
    for tag in tags:
        if len(tag) > MAX_TAG_LENGTH or not tag.isascii():
            raise bad_request(f"Invalid tag: {tag!r} (ASCII, at most {MAX_TAG_LENGTH} chars)")
    return tags


def _deliverytime(value: str) -> str:
    if not value:
        return ""
    try:
        parsedate_to_datetime(value)
    except (TypeError, ValueError) as exc:
        raise bad_request(f"'o:deliverytime' parameter is not a valid date: {value}") from exc
    return value


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
    return Options(
        tags=_tags(form),
        testmode=boolean(form.first("o:testmode", "no"), "o:testmode"),
        deliverytime=_deliverytime(form.first("o:deliverytime")),
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
        raise bad_request(f"{name} parameter is not a valid JSON")
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
        raise bad_request(
            "Need at least one of 'text', 'html', 'amp-html' or 'template' parameters specified"
        )
    batch = _json_dict(form, "recipient-variables")
    if batch is not None and len(to) > MAX_BATCH:
        raise bad_request(f"Too many recipients: batch sending is limited to {MAX_BATCH}")
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
