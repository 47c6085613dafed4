"""One Postmark message: the checks of a send request (with Postmark's codes and wording), the
MIME message it describes and its stored form.

A send is the JSON object of ``POST /email`` (or one element of a batch, or a template send once
its template is rendered): ``From``, ``To``/``Cc``/``Bcc`` as comma-separated address lists
(50 recipients at most, together), ``Subject``, ``TextBody``/``HtmlBody``, ``ReplyTo``,
``Headers`` (``[{"Name", "Value"}]``), ``Attachments`` (``Name``, base64 ``Content``,
``ContentType``, ``ContentID`` ``cid:...`` for inline images), ``Tag``, ``Metadata``,
``TrackOpens``, ``TrackLinks`` and ``MessageStream`` (``outbound`` by default). Wording of the
errors: Postmark's answers as django-anymail's Postmark backend parses them ("Invalid 'To'
address", "Error parsing 'Cc': Illegal email address ...") and Postmark's support articles
("Provide either email TextBody or HtmlBody or both", "Zero recipients specified").

The message is stored through the shared ingest path with source ``postmark`` and
``{"postmark": {...}}`` metadata (MessageID, stream, tag, metadata, tracking, template).
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mailsandbox.emulators.common.addresses import addresses
from mailsandbox.emulators.common.composed import Composed
from mailsandbox.emulators.common.ids import new_uuid
from mailsandbox.emulators.postmark.errors import (
    FORBIDDEN_ATTACHMENT,
    SENDER_NOT_FOUND,
    PostmarkError,
    invalid,
)
from mailsandbox.ingest import Inbound

MAX_RECIPIENTS = 50
MAX_TAG = 1000
MAX_METADATA_FIELDS = 10
MAX_METADATA_KEY = 20
MAX_METADATA_VALUE = 80
TRACK_LINKS = ("None", "HtmlAndText", "HtmlOnly", "TextOnly")
DEFAULT_STREAM = "outbound"
# file types Postmark refuses to attach (its "Forbidden attachment type", code 411)
FORBIDDEN_EXTENSIONS = frozenset(
    {"vbs", "exe", "bin", "bat", "chm", "com", "cpl", "crt", "hlp", "hta", "inf", "ins", "isp",
     "jse", "lnk", "mdb", "pcd", "pif", "reg", "scr", "sct", "shs", "vbe", "vba", "wsf", "wsh",
     "wsl", "msc", "msi", "msp", "mst"}
)  # fmt: skip
_DOMAIN = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,}")
_SUBMITTED = "%Y-%m-%dT%H:%M:%S.%f"


@dataclass
class Outgoing(Composed):
    """A checked message, ready to be written."""

    tag: str
    metadata: dict[str, str]
    stream: str
    track_opens: bool
    track_links: str
    to_text: str  # the To field as sent (echoed in the answer)
    template: dict[str, Any] = field(default_factory=dict)


def submitted_at(epoch: float | None = None) -> str:
    """``2014-02-17T12:25:01.4178645Z``: Postmark's SubmittedAt and event times (7 digits of
    fraction, as .NET writes them)."""
    moment = datetime.fromtimestamp(time.time() if epoch is None else epoch, UTC)
    return moment.strftime(_SUBMITTED) + "0Z"


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    return "" if value is None else str(value)


def _entries(data: dict[str, Any], name: str, header: str) -> list[dict[str, str]]:
    """An address-list field (``"a@x.com, Name <b@y.com>"``), each address checked."""
    value = _text(data, name)
    if not value.strip():
        return []
    out = []
    for display, addr in addresses([value]):
        if "@" not in addr:
            raise invalid(
                f"Error parsing '{header}': Illegal email address '{addr}'."
                " It must contain the '@' symbol."
            )
        domain = addr.rpartition("@")[2]
        if not _DOMAIN.fullmatch(domain):
            raise invalid(
                f"Error parsing '{header}': Illegal email domain '{domain}' in address '{addr}'."
            )
        out.append({"name": display, "email": addr})
    return out


def _sender(data: dict[str, Any]) -> dict[str, str]:
    value = _text(data, "From")
    found = addresses([value]) if value.strip() else []
    name, addr = found[0] if found else ("", "")  # Postmark takes the first of several
    if "@" not in addr or not _DOMAIN.fullmatch(addr.rpartition("@")[2]):
        raise invalid(f"Invalid 'From' address: '{value}'.")
    if addr.lower().endswith(".invalid"):  # an address no account can have as a signature
        raise PostmarkError(
            SENDER_NOT_FOUND,
            f"The 'From' address you supplied ({value}) is not a Sender Signature on your"
            " account. Please add and confirm this address in order to be able to use it in"
            " the 'From' field of your messages.",
        )
    return {"name": name, "email": addr}


def _headers(data: dict[str, Any]) -> dict[str, str]:
    items = data.get("Headers") or []
    if isinstance(items, dict):  # some clients send an object; Postmark documents a list
        items = [{"Name": k, "Value": v} for k, v in items.items()]
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise invalid("Invalid 'Headers' value: expected a list of {Name, Value} objects.")
    return {str(i.get("Name", "")): str(i.get("Value", "")) for i in items if i.get("Name")}


def _metadata(data: dict[str, Any]) -> dict[str, str]:
    value = data.get("Metadata") or {}
    problem = not isinstance(value, dict) or len(value) > MAX_METADATA_FIELDS
    if not problem:
        for key, item in value.items():
            if (
                len(str(key)) > MAX_METADATA_KEY
                or isinstance(item, (dict, list))
                or (item is not None and len(str(item)) > MAX_METADATA_VALUE)
            ):
                problem = True
    if problem:
        raise invalid(
            "Invalid metadata content. Metadata may have at most 10 fields, with names of at"
            " most 20 characters and string values of at most 80."
        )
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


def _attachments(data: dict[str, Any]) -> list[dict[str, Any]]:
    items = data.get("Attachments") or []
    if not isinstance(items, list):
        raise invalid("Invalid 'Attachments' value: expected a list.")
    out = []
    for item in items:
        if not isinstance(item, dict) or not item.get("Name"):
            raise invalid("Attachments must have a 'Name', a 'Content' and a 'ContentType'.")
        name = str(item["Name"])
        if name.rpartition(".")[2].lower() in FORBIDDEN_EXTENSIONS and "." in name:
            raise PostmarkError(FORBIDDEN_ATTACHMENT, f"Forbidden attachment type: '{name}'.")
        try:
            content = base64.b64decode(str(item.get("Content") or ""), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise invalid(f"The attachment '{name}' has no valid base64 'Content'.") from exc
        content_id = str(item.get("ContentID") or "")
        if content_id.lower().startswith("cid:"):
            content_id = content_id[4:]
        entry: dict[str, Any] = {
            "filename": name,
            "data": content,
            "type": item.get("ContentType"),
            "disposition": "inline" if content_id else "attachment",
        }
        if content_id:
            entry["content_id"] = content_id.strip("<>")
        out.append(entry)
    return out


def _tracking(data: dict[str, Any]) -> tuple[bool, str]:
    opens = data.get("TrackOpens")
    if opens is not None and not isinstance(opens, bool):
        raise invalid("Invalid 'TrackOpens' value: expected true or false.")
    links = data.get("TrackLinks")
    links = "None" if links is None else str(links)
    if links not in TRACK_LINKS:
        raise invalid(
            f"Invalid 'TrackLinks' value: '{links}'. Allowed: None, HtmlAndText, HtmlOnly,"
            " TextOnly."
        )
    return bool(opens), links


def check(data: Any, *, templated: bool = False) -> Outgoing:
    """A send request checked in Postmark's order of complaints (a template send has its
    Subject and bodies from the template: the caller renders it into ``data`` first)."""
    if not isinstance(data, dict):
        raise invalid("Invalid email request: a message must be a JSON object.")
    sender = _sender(data)
    to = _entries(data, "To", "To")
    cc = _entries(data, "Cc", "Cc")
    bcc = _entries(data, "Bcc", "Bcc")
    if not (to or cc or bcc):
        raise invalid("Zero recipients specified")
    if len(to) + len(cc) + len(bcc) > MAX_RECIPIENTS:
        raise invalid(f"Maximum of {MAX_RECIPIENTS} recipients allowed per email message")
    reply_to = _entries(data, "ReplyTo", "Reply-To")
    text, html = _text(data, "TextBody"), _text(data, "HtmlBody")
    if not templated and not (text.strip() or html.strip()):
        raise invalid("Provide either email TextBody or HtmlBody or both.")
    tag = _text(data, "Tag")
    if len(tag) > MAX_TAG:
        raise invalid(f"The 'Tag' field is too long: at most {MAX_TAG} characters.")
    opens, links = _tracking(data)
    return Outgoing(
        sender=sender,
        to=to,
        cc=cc,
        bcc=bcc,
        reply_to=reply_to,
        subject=_text(data, "Subject"),
        text=text,
        html=html,
        headers=_headers(data),
        attachments=_attachments(data),
        tag=tag,
        metadata=_metadata(data),
        stream=_text(data, "MessageStream").strip() or DEFAULT_STREAM,
        track_opens=opens,
        track_links=links,
        to_text=_text(data, "To"),
    )


def build(out: Outgoing, message_id: str, token: str, hostname: str) -> Inbound:
    """The stored form of a checked message with Postmark MessageID ``message_id``."""
    meta: dict[str, Any] = {
        "message_id": message_id,
        "stream": out.stream,
        "tag": out.tag,
        "metadata": out.metadata,
        "tracking": {
            "open": out.track_opens,
            "click": out.track_links != "None",
            "links": out.track_links,
        },
    }
    if out.template:
        meta["template"] = out.template
    return out.inbound(
        f"{message_id}@{hostname}",
        source="postmark",
        key=token,
        tags=[out.tag] if out.tag else [],
        metadata={"postmark": meta},
    )


def accepted(out: Outgoing, message_id: str, inactive: list[str]) -> dict[str, Any]:
    """Postmark's answer for a message it took (``inactive``: recipients it will not deliver
    to, which its message lists as django-anymail reads them)."""
    body: dict[str, Any] = {}
    if out.to_text.strip():
        body["To"] = out.to_text
    body.update(SubmittedAt=submitted_at(), MessageID=message_id, ErrorCode=0, Message="OK")
    if inactive:
        body["Message"] = (
            "Message OK, but will not deliver to these inactive addresses:"
            f" {', '.join(inactive)}. Inactive recipients are ones that have generated a hard"
            " bounce, a spam complaint, or a manual suppression."
        )
    return body


def new_message_id() -> str:
    return new_uuid()
