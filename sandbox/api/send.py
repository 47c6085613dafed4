"""``POST /api/v1/send``: build a real MIME message from Mailpit's JSON and ingest it (spec §7)."""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
from email import policy
from email.message import EmailMessage, MIMEPart
from email.utils import formataddr, formatdate, parseaddr
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from mailsandbox.api.deps import BodyError, GoJSONResponse, error, get_sandbox, json_body
from mailsandbox.api.security import USER_SCOPE_KEY
from mailsandbox.ingest import Inbound
from mailsandbox.runtime import Sandbox

router = APIRouter(prefix="/api/v1", tags=["send"])

PROTECTED = {
    "to",
    "from",
    "cc",
    "bcc",
    "reply-to",
    "date",
    "subject",
    "content-type",
    "mime-version",
}
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # printable ASCII except ":" (RFC 5322 field name)
_MAGIC = [
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
]


class SendError(ValueError):
    pass


def _email(value: Any, field: str) -> str:
    address = value if isinstance(value, str) else ""
    _, parsed = parseaddr(address)
    if not address or parsed != address.strip() or "@" not in parsed or " " in parsed:
        raise SendError(f"invalid {field} address: {address}")
    return parsed


def _people(items: Any, field: str) -> list[tuple[str, str]]:
    """``[{Email, Name}]`` → ``[(name, email)]``."""
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise BodyError(f"json: cannot unmarshal {field} into []struct")
    people = []
    for item in items:
        lowered = {str(k).lower(): v for k, v in item.items()}
        name = lowered.get("name") if isinstance(lowered.get("name"), str) else ""
        people.append((str(name), _email(lowered.get("email"), field)))
    return people


def _format(name: str, address: str) -> str:
    """``Name <address>``, the name quoted or RFC 2047-encoded as needed; the address as is
    (non-ASCII addresses are kept raw, as SMTPUTF8 mail carries them)."""
    placeholder = "address@placeholder.invalid"
    return formataddr((name, placeholder)).replace(placeholder, address)


def _sniff(data: bytes, filename: str) -> str:
    for magic, content_type in _MAGIC:
        if data.startswith(magic):
            return content_type
    guessed, _ = mimetypes.guess_type(filename)
    return guessed or "application/octet-stream"


Attachment = tuple[bytes, str, str, str, str]  # data, maintype, subtype, filename, content id


def _attachments(items: Any) -> list[Attachment]:
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise BodyError("json: cannot unmarshal Attachments into []struct")
    prepared = []
    for item in items:
        a = {str(k).lower(): v for k, v in item.items()}
        filename = str(a.get("filename") or "")
        content = str(a.get("content") or "")
        try:
            data = base64.b64decode(content.rsplit(",", 1)[-1], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SendError(f'error decoding base64 attachment "{filename}": {exc}') from None
        content_type = str(a.get("contenttype") or "") or _sniff(data, filename)
        maintype, _, subtype = content_type.partition("/")
        cid = str(a.get("contentid") or "")
        prepared.append((data, maintype, subtype or "octet-stream", filename, cid))
    return prepared


def _part(msg: EmailMessage, attachment: Attachment) -> MIMEPart:
    data, maintype, subtype, filename, cid = attachment
    part = MIMEPart(policy=msg.policy)
    part.set_content(
        data,
        maintype,
        subtype,
        cid=f"<{cid}>" if cid else None,
        filename=filename or None,
        disposition="inline" if cid else "attachment",
    )
    return part


def _set_body(msg: EmailMessage, text: str, html: str, attachments: list[Attachment]) -> None:
    """mixed → related → alternative → text, html; inline parts in related (Mailpit's tree)."""
    inlines = [a for a in attachments if a[4]]
    others = [a for a in attachments if not a[4]]
    body: MIMEPart = msg if not inlines else MIMEPart(policy=msg.policy)
    body.set_content(text)
    if html:
        body.add_alternative(html, subtype="html")
    if inlines:
        msg.make_related()
        msg.attach(body)  # type: ignore[arg-type]
        for attachment in inlines:
            msg.attach(_part(msg, attachment))  # type: ignore[arg-type]
    if others:
        msg.make_mixed()
        for attachment in others:
            msg.attach(_part(msg, attachment))  # type: ignore[arg-type]
    if "MIME-Version" not in msg:
        msg["MIME-Version"] = "1.0"


def build(body: dict[str, Any]) -> tuple[bytes, str, list[str]]:
    """The raw message, envelope sender and envelope recipients; raises SendError/BodyError."""
    sender = body.get("from")
    if not isinstance(sender, dict):
        raise SendError("error building message: from not set")
    sender_l = {str(k).lower(): v for k, v in sender.items()}
    if not sender_l.get("email"):
        raise SendError("error building message: from not set")
    from_name = str(sender_l.get("name") or "")
    from_email = _email(sender_l.get("email"), "From")
    to, cc = _people(body.get("to"), "To"), _people(body.get("cc"), "Cc")
    reply_to = _people(body.get("replyto"), "Reply-To")
    bcc_raw = body.get("bcc") or []
    if not isinstance(bcc_raw, list):
        raise BodyError("json: cannot unmarshal Bcc into []string")
    bcc = [_email(b, "Bcc") for b in bcc_raw]
    if not (to or cc or bcc):
        raise SendError("no recipients (to, cc, bcc) set")
    tags = body.get("tags") or []
    headers = body.get("headers") or {}
    if not isinstance(tags, list) or not isinstance(headers, dict):
        raise BodyError("json: cannot unmarshal Tags/Headers")
    protected = PROTECTED | ({"x-tags"} if tags else set())
    for key in headers:
        if str(key).lower() in protected:
            raise SendError(f'cannot overwrite header: "{key}"')
        if not _HEADER_NAME.match(str(key)):
            raise SendError(f'error building message: invalid header name "{key}"')

    msg = EmailMessage(policy=policy.default.clone(linesep="\r\n"))
    msg["From"] = _format(from_name, from_email)
    for header, people in (("To", to), ("Cc", cc), ("Reply-To", reply_to)):
        if people:
            msg[header] = ", ".join(_format(*p) for p in people)
    msg["Subject"] = str(body.get("subject") or "")
    msg["Date"] = formatdate(localtime=True)
    if tags:
        msg["X-Tags"] = ", ".join(str(t) for t in tags)
    for key, value in headers.items():
        msg[str(key)] = str(value)
    text, html = str(body.get("text") or ""), str(body.get("html") or "")
    _set_body(msg, text, html, _attachments(body.get("attachments")))
    everyone = [from_email, *(e for _, e in to + cc + reply_to), *bcc]
    # Non-ASCII addresses can only travel as SMTPUTF8 mail: raw UTF-8 headers.
    raw = msg.as_bytes(policy=msg.policy if all(e.isascii() for e in everyone) else policy.SMTPUTF8)
    return raw, from_email, [e for _, e in to] + [e for _, e in cc] + bcc


def build_error(exc: Exception) -> Response:
    """The answer to a body :func:`build` could not turn into a message."""
    if isinstance(exc, BodyError):
        return error(413 if "too large" in str(exc) else 400, str(exc))
    text = str(exc) if isinstance(exc, SendError) else f"error building message: {exc}"
    return error(400, text)


@router.post("/send")
async def send_message(request: Request, sandbox: Sandbox = Depends(get_sandbox)) -> Response:
    """Store a message built from JSON, as if received over SMTP. → ``{"ID": "..."}``."""
    try:
        body = await json_body(request)
        assert body is not None
        raw, mail_from, recipients = build(body)
    except Exception as exc:  # whatever the email package refuses is the client's input
        return build_error(exc)
    username = request.scope.get(USER_SCOPE_KEY, "")
    summary = await sandbox.mailbox.ingest(
        Inbound(raw, mail_from=mail_from, rcpt_tos=recipients, source="api", username=username)
    )
    return GoJSONResponse({"ID": summary.id})
