"""Mail "sent in" as a user would send it: the UI's Compose and Reply, ``POST /api/v1/inbound``.

Takes the JSON of ``POST /api/v1/send`` (Mailpit's: From, To, Cc, Bcc, Subject, Text, HTML,
Attachments, Headers...; keys already folded to lower case) plus ``Inbox`` (where it is listed)
and, for a reply, ``InReplyTo`` (the ID of a stored message). A reply is completed the way a mail
client completes one: From = the original's first recipient, To = its Reply-To (else its From),
Subject = ``Re: ...``, ``In-Reply-To`` and ``References``, the original quoted below the new text
(and in a ``<blockquote>`` below new HTML). What the body gives explicitly wins. The message is
built by the one JSON-to-MIME builder (:func:`mailsandbox.api.send.build`) and stored with
source ``inbound``, which inbound routing evaluates.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from mailsandbox import mime
from mailsandbox.api import send
from mailsandbox.api.deps import BodyError
from mailsandbox.inbound.model import META_KEY
from mailsandbox.inbound.records import stored_message
from mailsandbox.ingest import Inbound
from mailsandbox.runtime import Sandbox
from mailsandbox.storage.messages import MessageSummary

SOURCE = "inbound"


class OriginalNotFound(LookupError):
    """``InReplyTo`` names no stored message."""


def _person(address: mime.Address) -> dict[str, str]:
    return {"Email": address.address, "Name": address.name}


def _when(summary: MessageSummary) -> str:
    try:
        moment = datetime.fromisoformat(summary.date) if summary.date else None
    except ValueError:
        moment = None
    moment = moment or datetime.fromtimestamp(summary.created, UTC)
    return moment.strftime("%a, %d %b %Y at %H:%M")


def reply_headers(original: MessageSummary) -> dict[str, Any]:
    """From, To and Subject of a reply to ``original``, as Mailpit's send JSON."""
    me = original.to[0] if original.to else mime.Address("", next(iter(original.recipients), ""))
    subject = original.subject
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    to = [_person(a) for a in original.reply_to or [original.from_]]
    return {"from": _person(me), "to": to, "subject": subject}


def quote(original: MessageSummary, parsed: mime.ParsedMessage) -> tuple[str, str]:
    """(the "On ... wrote:" line, the original's text quoted with ``>``)."""
    who = original.from_.name or original.from_.address
    intro = f"On {_when(original)}, {who} wrote:"
    lines = parsed.text.replace("\r\n", "\n").rstrip("\n").split("\n")
    return intro, "\n".join(f"> {line}" if line else ">" for line in lines)


def reply_fields(
    original: MessageSummary, parsed: mime.ParsedMessage, references: str, body: dict[str, Any]
) -> dict[str, Any]:
    """``body`` completed as a reply to ``original`` (explicit fields win)."""
    message_id = f"<{original.message_id}>" if original.message_id else ""
    headers = {"In-Reply-To": message_id, "References": f"{references} {message_id}".strip()}
    given_headers = body.get("headers") or {}
    if not isinstance(given_headers, dict):
        raise BodyError("json: cannot unmarshal Headers into map")
    intro, quoted = quote(original, parsed)
    text = str(body.get("text") or "").rstrip()
    reply = {
        **reply_headers(original),
        **{k: v for k, v in body.items() if v is not None},  # null is "not given", as in Go
        "headers": {**{k: v for k, v in headers.items() if v}, **given_headers},
        "text": f"{text}\n\n{intro}\n{quoted}\n".lstrip("\n"),
    }
    if body.get("html"):
        quoted_html = parsed.html or f"<pre>{html.escape(parsed.text)}</pre>"
        reply["html"] = (
            f'{body["html"]}<div class="gmail_quote"><p>{html.escape(intro)}</p>'
            f'<blockquote type="cite">{quoted_html}</blockquote></div>'
        )
    return reply


async def prepare(sandbox: Sandbox, body: dict[str, Any], username: str = "") -> Inbound:
    """The :class:`Inbound` to ingest for ``body``; raises :class:`OriginalNotFound`, or
    ``SendError`` / ``BodyError`` for what the builder refuses."""
    inbox = body.get("inbox")
    if inbox is not None and not isinstance(inbox, str):
        raise BodyError("json: cannot unmarshal Inbox into string")
    reply_to_id = body.get("inreplyto")
    if reply_to_id:
        found = await sandbox.db.read(lambda conn: stored_message(conn, str(reply_to_id)))
        if found is None:
            raise OriginalNotFound(str(reply_to_id))
        original, raw = found
        references = " ".join(mime.header_text(mime.load(raw).get("References", "")).split())
        body = reply_fields(original, mime.parse_message(raw), references, body)
        inbox = inbox or original.inbox
    raw_message, mail_from, recipients = send.build(body)
    return Inbound(
        raw_message,
        mail_from=mail_from,
        rcpt_tos=recipients,
        source=SOURCE,
        username=username,
        inbox=(inbox or "default")[:100],  # as an X-Sandbox-Inbox header is cut
        metadata={META_KEY: []},
    )
