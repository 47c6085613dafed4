"""The synchronous client: ``Client(url)``; ``client.inbox(name)`` is a view bound to one inbox.

A bound view adds ``inbox:NAME`` to every list, search and wait, deletes only its own mail, and
sends (``send``) with SMTP AUTH user ``NAME`` so what it sends lands in that inbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import httpx

from mailsandbox.client import calls
from mailsandbox.client.base import ClientBase, request_kwargs, smtp_send
from mailsandbox.client.calls import MessageRef
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


class Client(ClientBase[httpx.Client]):
    """Talks to a running sandbox over its REST API (and SMTP for ``send``)."""

    def _new_http(self, timeout: float) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout)

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _do(self, call: calls.Call[T]) -> T:
        return call.parse(self.http.request(call.method, call.path, **request_kwargs(call)))

    # --- messages ----------------------------------------------------------------------
    def messages(self, limit: int = 50) -> list[Summary]:
        return self._do(calls.list_messages(self.inbox_name, limit))

    def search(self, query: str, limit: int = 50) -> list[Summary]:
        return self._do(self._search_call(query, limit))

    def get(self, message: MessageRef) -> Message:
        found = self._do(calls.get_message(message))
        return calls.with_esp(found, self.esp(found)).bound(self.lint)

    def latest(self, query: str = "") -> Message:
        found = self._do(calls.get_message("latest", self._query(query)))
        return calls.with_esp(found, self.esp(found)).bound(self.lint)

    def esp(self, message: MessageRef) -> Esp:
        """What the SendGrid/Mailgun API was told about a message (also ``get(...).esp``)."""
        return self._do(calls.esp(message))

    def lint(self, message: MessageRef) -> list[Finding]:
        """Deliverability findings for a message, errors first (see docs/checks.md)."""
        return self._do(calls.lint(message))

    def headers(self, message: MessageRef) -> dict[str, list[str]]:
        return self._do(calls.headers(message))

    def raw(self, message: MessageRef) -> bytes:
        return self._do(calls.raw(message))

    def attachment(self, message: MessageRef, part_id: str) -> bytes:
        return self._do(calls.part(message, part_id))

    def wait_for(
        self,
        *,
        to: str | None = None,
        subject: str | None = None,
        from_: str | None = None,
        query: str | None = None,
        timeout: float = 30.0,
    ) -> Message:
        """The newest matching message: at once if there is one, else as soon as one arrives.
        Raises :class:`WaitTimeout` after ``timeout`` seconds (server-side long poll)."""
        q = self._query(query, to=to, subject=subject, from_=from_)
        return self.get(self._do(calls.wait(q, timeout)))

    def delete(self, *messages: MessageRef) -> None:
        """Delete these messages; with none, every message of this view (all, unbound)."""
        self._do(calls.delete(messages, self.inbox_name))

    def links(self, message: MessageRef) -> list[Link]:
        return self._do(calls.links(message))

    def codes(self, message: MessageRef) -> list[Code]:
        return self._do(calls.codes(message))

    # --- events and webhooks -----------------------------------------------------------
    def trigger(
        self,
        message: MessageRef,
        type: str,
        *,
        recipient: str | None = None,
        reason: str | None = None,
        url: str | None = None,
    ) -> Event:
        """Simulate a delivery event (delivered, bounced, opened, clicked...) for a recipient."""
        return self._do(calls.trigger(message, type, recipient, reason, url))

    def events(self, message: MessageRef) -> list[Event]:
        return self._do(calls.events(message))

    def webhook_deliveries(self, message: MessageRef | None = None) -> list[Delivery]:
        """Webhook delivery attempts, newest first; only those for ``message`` if given."""
        return self._do(calls.webhook_deliveries(message))

    def inboxes(self) -> list[Inbox]:
        return self._do(calls.inboxes())

    # --- sending -----------------------------------------------------------------------
    def send(
        self,
        to: str | Sequence[str],
        subject: str,
        text: str = "",
        *,
        html: str | None = None,
        from_: str = "sender@example.com",
        headers: dict[str, str] | None = None,
    ) -> None:
        """Send a message over SMTP (into this view's inbox when bound)."""
        message = calls.compose(to, subject, text, html, from_, headers)
        smtp_send(self.smtp, self.inbox_name, message)

    # --- inbound mail ------------------------------------------------------------------
    def inbound(
        self,
        to: str | Sequence[str],
        subject: str = "",
        text: str = "",
        *,
        html: str | None = None,
        from_: str = "sender@example.com",
        cc: str | Sequence[str] | None = None,
        headers: dict[str, str] | None = None,
        attachments: Sequence[File] = (),
    ) -> Message:
        """Send a message *in*, as someone outside would (``POST /api/v1/inbound``): stored
        (in this view's inbox when bound) and routed through the SendGrid Inbound Parse
        settings and Mailgun routes, which POST it to the app. Returns the stored message."""
        mail = calls.MailIn(text, to, subject, html, from_, cc, headers, attachments)
        return self.get(self._do(calls.send_in(mail, self.inbox_name)))

    def reply(
        self,
        message: MessageRef,
        text: str = "",
        *,
        html: str | None = None,
        from_: str | None = None,
        to: str | Sequence[str] | None = None,
        subject: str | None = None,
        headers: dict[str, str] | None = None,
        attachments: Sequence[File] = (),
    ) -> Message:
        """Reply to a stored message as its recipient would: From its recipient, To its
        Reply-To (else its From), ``Re:`` subject, In-Reply-To/References, the original quoted
        below ``text``; then routed like :meth:`inbound`. Returns the stored reply."""
        mail = calls.MailIn(text, to, subject, html, from_, None, headers, attachments)
        return self.get(self._do(calls.send_in(mail, self.inbox_name, message)))
