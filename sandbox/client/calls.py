"""What each client operation sends and how its answer is read, shared by the sync and async
clients (which only do the I/O). Also the client's errors and the search-query builder.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any, Generic, TypeVar

import httpx

from mailsandbox.client.models import (
    Code,
    Delivery,
    Esp,
    Event,
    File,
    Finding,
    Inbox,
    Link,
    Message,
    Summary,
)

T = TypeVar("T")
MessageRef = str | Message | Summary
WAIT_SLACK = 10.0  # seconds the HTTP read may take beyond the server-side wait


class SandboxError(Exception):
    """The sandbox answered with an error status."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


class MessageNotFound(SandboxError, LookupError):
    """No such message (404)."""


class WaitTimeout(SandboxError, TimeoutError):
    """No matching message arrived before the timeout (408)."""


@dataclass
class Call(Generic[T]):
    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: dict[str, Any] | None = None
    json: Any = None
    timeout: float | None = None  # None: the client's default


def check(response: httpx.Response) -> httpx.Response:
    if response.is_success:
        return response
    try:
        detail = str(response.json().get("Error", response.text))
    except (ValueError, AttributeError):
        detail = response.text
    kind = {404: MessageNotFound, 408: WaitTimeout}.get(response.status_code, SandboxError)
    raise kind(response.status_code, detail.strip())


def ref(message: MessageRef) -> str:
    return message if isinstance(message, str) else message.id


def _quoted(key: str, value: str) -> str:
    return f'{key}:"{value}"' if value else ""


def build_query(
    *,
    to: str | None = None,
    subject: str | None = None,
    from_: str | None = None,
    query: str | None = None,
    inbox: str | None = None,
) -> str:
    """A search query (Mailpit syntax) from keyword filters, ANDed, scoped to ``inbox``."""
    parts = [
        _quoted("to", to or ""),
        _quoted("subject", subject or ""),
        _quoted("from", from_ or ""),
        (query or "").strip(),
        _quoted("inbox", inbox or ""),
    ]
    return " ".join(p for p in parts if p)


# --- parsers -------------------------------------------------------------------------------
def _json(response: httpx.Response) -> Any:
    return check(response).json()


def _summaries(response: httpx.Response) -> list[Summary]:
    return [Summary.from_json(m) for m in _json(response)["messages"]]


def _message(response: httpx.Response) -> Message:
    return Message.from_json(_json(response))


def _summary(response: httpx.Response) -> Summary:
    return Summary.from_json(_json(response))


def _event(response: httpx.Response) -> Event:
    return Event.from_json(_json(response))


def _events(response: httpx.Response) -> list[Event]:
    return [Event.from_json(e) for e in _json(response)["events"]]


def _links(response: httpx.Response) -> list[Link]:
    items = _json(response)["links"]
    return [Link(x["url"], x["text"], x["part"], x.get("target", "")) for x in items]


def _codes(response: httpx.Response) -> list[Code]:
    return [Code(c["code"], c["context"]) for c in _json(response)["codes"]]


def _bytes(response: httpx.Response) -> bytes:
    return check(response).content


def _nothing(response: httpx.Response) -> None:
    check(response)


# --- operations ----------------------------------------------------------------------------
def list_messages(inbox: str | None, limit: int) -> Call[list[Summary]]:
    if inbox is not None:
        return search(build_query(inbox=inbox), limit)
    return Call("GET", "/api/v1/messages", _summaries, params={"limit": limit})


def search(query: str, limit: int) -> Call[list[Summary]]:
    return Call("GET", "/api/v1/search", _summaries, params={"query": query, "limit": limit})


def get_message(message: MessageRef, query: str = "") -> Call[Message]:
    params = {"query": query} if query else None
    return Call("GET", f"/api/v1/message/{ref(message)}", _message, params=params)


def _esp(response: httpx.Response) -> Esp:
    return Esp.from_json(_json(response))


def esp(message: MessageRef) -> Call[Esp]:
    return Call("GET", f"/api/v1/message/{ref(message)}/esp", _esp)


def with_esp(message: Message, data: Esp) -> Message:
    """``message`` with its ESP data (fetched by the second call of a ``get``)."""
    return replace(message, esp=data)


def headers(message: MessageRef) -> Call[dict[str, list[str]]]:
    return Call("GET", f"/api/v1/message/{ref(message)}/headers", _json)


def raw(message: MessageRef) -> Call[bytes]:
    return Call("GET", f"/api/v1/message/{ref(message)}/raw", _bytes)


def part(message: MessageRef, part_id: str) -> Call[bytes]:
    return Call("GET", f"/api/v1/message/{ref(message)}/part/{part_id}", _bytes)


def wait(query: str, timeout: float) -> Call[Summary]:
    params: dict[str, Any] = {"timeout": f"{timeout:g}"}
    if query:
        params["query"] = query
    return Call("GET", "/api/v1/wait", _summary, params=params, timeout=timeout + WAIT_SLACK)


def delete(messages: Sequence[MessageRef], inbox: str | None) -> Call[None]:
    if messages:
        body = {"IDs": [ref(m) for m in messages]}
        return Call("DELETE", "/api/v1/messages", _nothing, json=body)
    if inbox is not None:
        params = {"query": build_query(inbox=inbox)}
        return Call("DELETE", "/api/v1/search", _nothing, params=params)
    return Call("DELETE", "/api/v1/messages", _nothing)


def links(message: MessageRef) -> Call[list[Link]]:
    return Call("GET", f"/api/v1/message/{ref(message)}/links", _links)


def codes(message: MessageRef) -> Call[list[Code]]:
    return Call("GET", f"/api/v1/message/{ref(message)}/codes", _codes)


def _findings(response: httpx.Response) -> list[Finding]:
    return [Finding.from_json(f) for f in _json(response)["Findings"]]


def lint(message: MessageRef) -> Call[list[Finding]]:
    return Call("GET", f"/api/v1/message/{ref(message)}/lint", _findings)


def trigger(
    message: MessageRef, type_: str, recipient: str | None, reason: str | None, url: str | None
) -> Call[Event]:
    body = {"type": type_, "recipient": recipient, "reason": reason, "url": url}
    body = {k: v for k, v in body.items() if v is not None}
    return Call("POST", f"/api/v1/message/{ref(message)}/events", _event, json=body)


def events(message: MessageRef) -> Call[list[Event]]:
    return Call("GET", f"/api/v1/message/{ref(message)}/events", _events)


def _deliveries(response: httpx.Response) -> list[Delivery]:
    return [Delivery.from_json(d) for d in _json(response)["deliveries"]]


def webhook_deliveries(message: MessageRef | None) -> Call[list[Delivery]]:
    params = {"message": ref(message)} if message is not None else None
    return Call("GET", "/api/v1/webhooks/deliveries", _deliveries, params=params)


def _inboxes(response: httpx.Response) -> list[Inbox]:
    return [Inbox.from_json(i) for i in _json(response)["inboxes"]]


def inboxes() -> Call[list[Inbox]]:
    return Call("GET", "/api/v1/inboxes", _inboxes)


def _id(response: httpx.Response) -> str:
    return str(_json(response)["ID"])


def _people(addresses: str | Sequence[str] | None) -> list[dict[str, str]]:
    listed = [addresses] if isinstance(addresses, str) else list(addresses or [])
    return [{"Email": a, "Name": n} for n, a in getaddresses(listed) if a]


@dataclass(frozen=True)
class MailIn:
    """What :meth:`Client.inbound` and :meth:`Client.reply` send in (``None``: not given)."""

    text: str = ""
    to: str | Sequence[str] | None = None
    subject: str | None = None
    html: str | None = None
    from_: str | None = None
    cc: str | Sequence[str] | None = None
    headers: dict[str, str] | None = None
    attachments: Sequence[File] = ()


def send_in(mail: MailIn, inbox: str | None, in_reply_to: MessageRef | None = None) -> Call[str]:
    """``POST /api/v1/inbound``: mail sent in (what is not given, a reply fills in)."""
    sender = _people(mail.from_)
    optional = {
        "From": sender[0] if sender else None,
        "To": _people(mail.to) or None,
        "Cc": _people(mail.cc) or None,
        "Subject": mail.subject,
        "HTML": mail.html,
        "Headers": mail.headers,
        "Attachments": [f.as_json() for f in mail.attachments] or None,
        "InReplyTo": ref(in_reply_to) if in_reply_to is not None else None,
        "Inbox": inbox,
    }
    body = {"Text": mail.text, **{k: v for k, v in optional.items() if v is not None}}
    return Call("POST", "/api/v1/inbound", _id, json=body)


def compose(
    to: str | Sequence[str],
    subject: str,
    text: str,
    html: str | None,
    from_: str,
    headers: dict[str, str] | None,
) -> EmailMessage:
    """The message ``send`` submits over SMTP."""
    msg = EmailMessage()
    msg["From"] = from_
    msg["To"] = to if isinstance(to, str) else ", ".join(to)
    msg["Subject"] = subject
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text or "")
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg
