"""One Resend email: the checks of a send (Resend's error types and wording), the scheduled
time, the MIME message and its stored form.

A send is the JSON object of ``POST /emails`` (or one element of ``/emails/batch``): ``from``,
``to`` (a string or a list, 50 at most), ``cc``, ``bcc``, ``reply_to``, ``subject``, ``html``,
``text``, ``headers`` (an object), ``attachments`` (``filename``, ``content`` as base64 or a
list of byte values as the Python SDK sends it, or a ``path`` to fetch, ``content_type``,
``content_id`` for inline images), ``tags`` (``[{"name", "value"}]``) and ``scheduled_at`` (ISO
8601, or Resend's natural language: ``in 1 min``, ``in 2 hours``...).

The email is stored through the shared ingest path with source ``resend`` and
``{"resend": {...}}`` metadata (its id, the addresses as given, tags, custom headers, the
scheduled time), which ``GET /emails/{id}`` and the webhooks read back.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mailsandbox.emulators.common.addresses import addresses, valid_address
from mailsandbox.emulators.common.composed import Composed
from mailsandbox.emulators.resend.errors import ResendError, missing, validation
from mailsandbox.ingest import Inbound

MAX_RECIPIENTS = 50
MAX_SCHEDULE = 30 * 86400  # Resend schedules up to 30 days ahead
_TAG = re.compile(r"[A-Za-z0-9_-]{1,256}")
_IN = re.compile(
    r"(?:in\s+)?(\d+)\s*(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|"
    r"d|day|days)",
    re.IGNORECASE,
)
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
ADDRESS_FORMAT = (
    "The email address needs to follow the `email@example.com` or `Name <email@example.com>`"
    " format."
)


@dataclass
class Email(Composed):
    """A checked send, ready to be written."""

    given: dict[str, Any]  # from/to/cc/bcc/reply_to as sent (echoed by GET /emails/{id})
    tags: list[dict[str, str]]
    scheduled_at: float | None = None


def created_text(epoch: float) -> str:
    """``2023-04-03 22:13:42.674981+00``, how ``GET /emails/{id}`` shows times."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S.%f") + "+00"


def event_data_time(epoch: float) -> str:
    """``2024-02-22T23:41:11.894719+00:00``, the ``created_at`` of a webhook's ``data``."""
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def _list(data: dict[str, Any], name: str) -> list[str]:
    value = data.get(name)
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(i, str) for i in items):
        raise validation(f"Invalid `{name}` field. {ADDRESS_FORMAT}")
    return items


def _entries(data: dict[str, Any], name: str) -> list[dict[str, str]]:
    out = []
    for item in _list(data, name):
        found = addresses([item])
        if len(found) != 1 or not valid_address(found[0][1]):
            raise validation(f"Invalid `{name}` field. {ADDRESS_FORMAT}")
        out.append({"name": found[0][0], "email": found[0][1]})
    return out


def parse_schedule(value: Any, now: float | None = None) -> float | None:
    """The epoch a ``scheduled_at`` names (None: now); validation_error when unreadable."""
    if value is None or value == "":
        return None
    now = time.time() if now is None else now
    text = str(value).strip()
    match = _IN.fullmatch(text)
    if match:
        when = now + int(match.group(1)) * _UNIT[match.group(2)[0].lower()]
    else:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise validation(
                "Invalid `scheduled_at` field. Use an ISO 8601 date (2024-08-05T11:52:01.858Z)"
                " or natural language (in 1 min)."
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        when = moment.timestamp()
    if when - now > MAX_SCHEDULE:
        raise validation(
            "Invalid `scheduled_at` field. Emails can be scheduled up to 30 days ahead."
        )
    return when if when > now else None


def _headers(data: dict[str, Any]) -> dict[str, str]:
    value = data.get("headers") or {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise validation("Invalid `headers` field. Headers must be an object of strings.")
    return {str(k): v for k, v in value.items()}


def _tags(data: dict[str, Any]) -> list[dict[str, str]]:
    value = data.get("tags") or []
    if not isinstance(value, list):
        raise validation("Invalid `tags` field. Tags must be a list of {name, value}.")
    out = []
    for item in value:
        name = str(item.get("name", "")) if isinstance(item, dict) else ""
        tag_value = str(item.get("value", "")) if isinstance(item, dict) else ""
        if not _TAG.fullmatch(name) or (tag_value and not _TAG.fullmatch(tag_value)):
            raise validation(
                "The `name` and `value` of a tag must only contain ASCII letters (a-z, A-Z),"
                " numbers (0-9), underscores (_), or dashes (-)."
            )
        out.append({"name": name, "value": tag_value})
    return out


def _content(item: dict[str, Any], filename: str) -> bytes:
    content = item.get("content")
    if isinstance(content, list):  # the Python SDK's list(file.read())
        try:
            return bytes(content)
        except (TypeError, ValueError):
            pass
    elif isinstance(content, str):
        try:
            return base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            pass
    if content is None:
        raise ResendError(
            422, "invalid_attachment", "Attachment must have either a `content` or `path`."
        )
    raise ResendError(
        422, "invalid_attachment", f"The content of `{filename}` is not valid base64."
    )


async def fetch_paths(data: Any) -> None:
    """Fetch the attachments given by ``path`` (a URL) into ``content``, before the checks
    (Resend downloads them; an address it cannot download is ``invalid_attachment``)."""
    items = data.get("attachments") if isinstance(data, dict) else None
    wanted = [
        i for i in items or [] if isinstance(i, dict) and i.get("content") is None and i.get("path")
    ]
    if not wanted:
        return
    import httpx  # here, not at start: importing it costs start-up time

    async with httpx.AsyncClient(timeout=10, follow_redirects=True) as client:
        for item in wanted:
            try:
                response = await client.get(str(item["path"]))
                response.raise_for_status()
            except httpx.HTTPError as exc:
                raise ResendError(
                    422, "invalid_attachment", f"The attachment at `{item['path']}` could not be"
                    " fetched."
                ) from exc  # fmt: skip
            item["content"] = base64.b64encode(response.content).decode()
            item.setdefault("filename", str(item["path"]).rstrip("/").rpartition("/")[2])


def _attachments(data: dict[str, Any]) -> list[dict[str, Any]]:
    value = data.get("attachments") or []
    if not isinstance(value, list) or not all(isinstance(i, dict) for i in value):
        raise ResendError(422, "invalid_attachment", "Attachments must be a list of objects.")
    out = []
    for item in value:
        filename = str(item.get("filename") or "attachment")
        entry: dict[str, Any] = {
            "filename": filename,
            "data": _content(item, filename),
            "type": item.get("content_type"),
            "disposition": "inline" if item.get("content_id") else "attachment",
        }
        if item.get("content_id"):
            entry["content_id"] = str(item["content_id"]).strip("<>")
        out.append(entry)
    return out


def check(data: Any, *, now: float | None = None) -> Email:
    """A send checked in Resend's order of complaints (missing fields first)."""
    if not isinstance(data, dict):
        raise validation("The request body must be a JSON object.", 400)
    for name in ("from", "to", "subject"):
        if data.get(name) in (None, "", []):
            raise missing(name)
    senders = _entries(data, "from")
    if len(senders) != 1:
        raise validation(f"Invalid `from` field. {ADDRESS_FORMAT}")
    to, cc, bcc = (_entries(data, n) for n in ("to", "cc", "bcc"))
    if len(to) > MAX_RECIPIENTS:
        raise validation(f"Too many recipients in the `to` field: at most {MAX_RECIPIENTS}.")
    reply_to = _entries(data, "reply_to")
    html, text = (data.get(n) for n in ("html", "text"))
    if not isinstance(html or "", str) or not isinstance(text or "", str):
        raise validation("Invalid `html` or `text` field: they must be strings.")
    if not (html or text):
        raise missing("html` or `text")
    domain = senders[0]["email"].rpartition("@")[2].lower()
    if domain.endswith(".invalid"):  # a domain no account can verify
        raise validation(
            f"The {domain} domain is not verified. Please, add and verify your domain on"
            " https://resend.com/domains",
            403,
        )
    given = {n: data.get(n) for n in ("from", "to", "cc", "bcc", "reply_to")}
    return Email(
        sender=senders[0],
        given=given,
        to=to,
        cc=cc,
        bcc=bcc,
        reply_to=reply_to,
        subject=str(data.get("subject") or ""),
        html=str(html or ""),
        text=str(text or ""),
        headers=_headers(data),
        attachments=_attachments(data),
        tags=_tags(data),
        scheduled_at=parse_schedule(data.get("scheduled_at"), now),
    )


def build(email: Email, email_id: str, key: str, hostname: str) -> Inbound:
    """The stored form of a checked email with Resend id ``email_id``."""
    meta: dict[str, Any] = {
        "id": email_id,
        **{k: _as_list(v) for k, v in email.given.items() if k != "from"},
        "from": email.given["from"],
        "tags": email.tags,
        "headers": [[n, v] for n, v in email.headers.items()],
        "bodies": [kind for kind, _ in email.bodies],  # which of text/html were sent
        "created": time.time(),
    }
    if email.scheduled_at is not None:
        meta["scheduled_at"] = email.scheduled_at
    return email.inbound(
        f"{email_id}@{hostname}",
        source="resend",
        key=key,
        tags=[t["value"] or t["name"] for t in email.tags],
        metadata={"resend": meta},
    )


def _as_list(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]
