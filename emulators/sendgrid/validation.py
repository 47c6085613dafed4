"""The mail-send validation table (esp-contracts.md A1): envelope, addresses, personalizations.

:func:`validate` checks a decoded ``/v3/mail/send`` body and raises one 400 listing every
problem, in the order SendGrid lists them (``from``, then ``personalizations``, then the
subject and ``content``: the three-error answer quoted in sendgrid-ruby#438); the per-part
rules (content, attachments, headers, settings...) live in :mod:`.validation_parts`. Messages,
fields and help anchors follow answers of the live service quoted in SDK issues
(sendgrid-ruby#438 and #467, sendgrid-php#972, sendgrid/docs#3764,
laravel-sendgrid-driver#96, symfony#33135) or else the archived error reference
(sendgrid/docs ``API_Reference/Web_API_v3/Mail/errors.md``); where neither says (marked
[unverified]) they say plainly what is wrong.

Names may contain ``,`` or ``;``: SendGrid accepts "Acme, Inc." and quotes it in the message
(sendgrid-nodejs#1183); docs/sendgrid.md says so.
"""

from __future__ import annotations

import time
from typing import Any

from mailsandbox.emulators.sendgrid import validation_parts as parts
from mailsandbox.emulators.sendgrid.checks import Checks, valid_email

MAX_PERSONALIZATIONS = 1000
MAX_RECIPIENTS = 1000
MAX_SCHEDULE_AHEAD = 72 * 3600

FROM_REQUIRED = (
    "The from object must be provided for every email send. It is an object that requires the "
    'email parameter, but may also contain a name parameter.  e.g. {"email" : '
    '"example@example.com"}  or {"email" : "example@example.com", "name" : "Example Recipient"}.'
)
PERSONALIZATIONS_REQUIRED = (
    "The personalizations field is required and must have at least one personalization."
)
PERSONALIZATIONS_HELP = "-Personalizations-Errors"  # the anchor the live answer links to
TOO_MANY_PERSONALIZATIONS = (
    "The personalization block is limited to 1000 personalizations per API request. You have "
    "provided {} personalizations. Please consider splitting this into multiple requests and "
    "resending your request."
)
TOO_MANY_RECIPIENTS = "There is a limit of 1000 total recipients (to + cc + bcc) per request."
DUPLICATE = (
    "Each email address in the personalization block should be unique between to, cc, and "
    "bcc. We found the first duplicate instance of [{email}] in the {path} field."
)
TO_REQUIRED = (
    "The to array is required for all personalization objects, and must have at least one "
    "email object with a valid email address."
)
SUBJECT_REQUIRED = (
    "The subject is required. You can get around this requirement if you use a template with a "
    "subject defined or if every personalization has a subject defined."
)
INVALID_ADDRESS = "Does not contain a valid address."


def check_address(
    c: Checks,
    value: Any,
    path: str,
    message: str = INVALID_ADDRESS,
    kind: str = "",
) -> str | None:
    """An ``{email, name?}`` object; returns the lower-cased email when valid. ``kind``
    (``to``, ``cc``, ``bcc``) words a missing or mistyped email as SendGrid does for
    recipients: "The to email parameter is required." (sendgrid-php#972)."""
    help_anchor = f"message.personalizations.{kind}" if kind else None
    if not c.type_is(value, "object", path, help_anchor):
        return None
    name = value.get("name")
    if name is not None:
        c.type_is(name, "string", f"{path}.name", help_anchor)
    email = value.get("email")
    if kind and email is None:
        c.add(f"The {kind} email parameter is required.", f"{path}.email", help_anchor)
        return None
    if kind and not isinstance(email, str):
        c.type_is(email, "string", f"{path}.email", help_anchor)
        return None
    if not valid_email(email):
        c.add(message, f"{path}.email", "message.recipient-errors")
        return None
    return str(email).lower()


def _check_send_at(c: Checks, value: Any, path: str, now: float) -> None:
    if value is None or not c.type_is(value, "integer", path):
        return
    if value > now + MAX_SCHEDULE_AHEAD:
        c.add("The send_at parameter cannot be scheduled more than 72 hours in advance.", path)


def _check_personalization(c: Checks, p: Any, i: int, now: float) -> int:
    """Checks one personalization; returns its number of recipients."""
    path = f"personalizations.{i}"
    if not c.type_is(p, "object", path):
        return 0
    seen: dict[str, str] = {}
    count = 0
    if not isinstance(p.get("to"), list) or not p["to"]:
        c.add(TO_REQUIRED, f"{path}.to", "message.personalizations.to")
    duplicate = False
    for kind in ("to", "cc", "bcc"):
        entries = c.optional(p, kind, "array", f"{path}.{kind}") or []
        for j, entry in enumerate(entries):
            count += 1
            email = check_address(c, entry, f"{path}.{kind}.{j}", kind=kind)
            if email is None:
                continue
            if email in seen and not duplicate:  # "the first duplicate instance", on the block
                duplicate = True
                message = DUPLICATE.format(email=email, path=f"{path}.{kind}")
                c.add(message, path, "message.recipient-errors")
            seen[email] = kind
    if p.get("from") is not None:
        check_address(
            c, p["from"], f"{path}.from", "The from email does not contain a valid address."
        )
    if "subject" in p and c.type_is(p["subject"], "string", f"{path}.subject") and not p["subject"]:
        c.add("The subject must be at least one character long.", f"{path}.subject")
    parts.check_headers(c, p.get("headers"), f"{path}.headers")
    parts.check_substitutions(c, p.get("substitutions"), f"{path}.substitutions")
    if p.get("dynamic_template_data") is not None:
        c.type_is(p["dynamic_template_data"], "object", f"{path}.dynamic_template_data")
    _check_send_at(c, p.get("send_at"), f"{path}.send_at", now)
    return count


def _check_personalizations(c: Checks, body: dict[str, Any], now: float) -> list[Any]:
    items = body.get("personalizations")
    if not isinstance(items, list) or not items:
        c.add(PERSONALIZATIONS_REQUIRED, "personalizations", PERSONALIZATIONS_HELP)
        return []
    if len(items) > MAX_PERSONALIZATIONS:
        message = TOO_MANY_PERSONALIZATIONS.format(len(items))
        c.add(message, "personalizations", "message.personalizations")
    total = sum(_check_personalization(c, p, i, now) for i, p in enumerate(items))
    if total > MAX_RECIPIENTS:
        c.add(TOO_MANY_RECIPIENTS, "personalizations", "message.personalizations")
    return items


def _check_senders(c: Checks, body: dict[str, Any]) -> None:
    sender = body.get("from")
    if sender is not None and not isinstance(sender, dict):  # laravel-sendgrid-driver#96
        c.type_is(sender, "object", "from", "message.from")
    elif not isinstance(sender, dict) or not sender.get("email"):
        c.add(FROM_REQUIRED, "from.email", "message.from")
    else:
        check_address(c, sender, "from", "The from email does not contain a valid address.")
    if body.get("reply_to") is not None and body.get("reply_to_list") is not None:
        c.add("The reply_to and reply_to_list fields cannot both be set.", "reply_to_list")
    if body.get("reply_to") is not None:
        check_address(
            c, body["reply_to"], "reply_to", "The reply_to email does not contain a valid address."
        )
    for j, entry in enumerate(c.optional(body, "reply_to_list", "array", "reply_to_list") or []):
        check_address(c, entry, f"reply_to_list.{j}")


def _check_subject(
    c: Checks, body: dict[str, Any], personalizations: list[Any], template_subject: bool
) -> None:
    subject = body.get("subject")
    if subject is not None and not c.type_is(subject, "string", "subject"):
        return
    all_own = bool(personalizations) and all(
        isinstance(p, dict) and isinstance(p.get("subject"), str) and p["subject"]
        for p in personalizations
    )
    if not subject and not template_subject and not all_own:
        c.add(SUBJECT_REQUIRED, "subject", "message.subject")


def _check_dynamic_data(c: Checks, body: dict[str, Any], personalizations: list[Any]) -> None:
    """``dynamic_template_data`` needs a ``template_id`` (sendgrid/docs#3764)."""
    if body.get("template_id"):
        return
    if any(isinstance(p, dict) and p.get("dynamic_template_data") for p in personalizations):
        c.add(
            "The template_id is required when using dynamic templates",
            "template_id",
            "message.template_id",
        )


def validate(
    body: dict[str, Any], *, template_subject: bool = False, now: float | None = None
) -> None:
    """Raise a 400 :class:`SendGridError` listing every problem of a mail-send body."""
    now = time.time() if now is None else now
    c = Checks()
    _check_senders(c, body)
    personalizations = _check_personalizations(c, body, now)
    _check_subject(c, body, personalizations, template_subject)
    _check_dynamic_data(c, body, personalizations)
    parts.check_content(c, body)
    parts.check_attachments(c, body.get("attachments"))
    parts.check_headers(c, body.get("headers"), "headers")
    if body.get("sections") is not None:
        c.string_map(body["sections"], "sections")
    parts.check_categories(c, body.get("categories"))
    parts.check_custom_args(c, body, personalizations)
    parts.check_settings(c, body)
    _check_send_at(c, body.get("send_at"), "send_at", now)
    c.raise_if_any()
