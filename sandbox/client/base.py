"""What the sync and async clients share: construction, inbox-bound views, query scoping, the
keyword arguments of each request, and SMTP submission. Subclasses add only the transport.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Any, Generic, Self, TypeVar
from urllib.parse import urlsplit

import httpx

from mailsandbox.client import calls
from mailsandbox.client.models import Summary

H = TypeVar("H", httpx.Client, httpx.AsyncClient)
DEFAULT_SMTP_PORT = 1025


def smtp_address(url: str, smtp: tuple[str, int] | None) -> tuple[str, int]:
    """The SMTP server to send through: given, else the HTTP host on port 1025."""
    return smtp or (urlsplit(url).hostname or "127.0.0.1", DEFAULT_SMTP_PORT)


def smtp_send(address: tuple[str, int], inbox: str | None, message: EmailMessage) -> None:
    """Submit ``message`` over SMTP, authenticated as ``inbox`` (which puts it there)."""
    with smtplib.SMTP(*address, timeout=30) as server:
        if inbox:
            server.login(inbox, inbox)
        server.send_message(message)


def request_kwargs(call: calls.Call[Any]) -> dict[str, Any]:
    """The ``httpx`` ``request()`` arguments for ``call`` (both transports send the same)."""
    kwargs: dict[str, Any] = {"params": call.params, "json": call.json}
    if call.timeout is not None:
        kwargs["timeout"] = call.timeout
    return kwargs


class ClientBase(Generic[H]):
    """State of a client or of a view bound to one inbox; ``H`` is the httpx client type."""

    def __init__(
        self,
        url: str,
        *,
        inbox: str | None = None,
        smtp: tuple[str, int] | None = None,
        timeout: float = 30.0,
        http: H | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.inbox_name = inbox
        self.smtp = smtp_address(self.url, smtp)
        self._owns_http = http is None
        self.http: H = http or self._new_http(timeout)

    def _new_http(self, timeout: float) -> H:
        raise NotImplementedError

    def inbox(self, name: str) -> Self:
        """A view of this sandbox bound to inbox ``name`` (shares the connection pool)."""
        return type(self)(self.url, inbox=name, smtp=self.smtp, http=self.http)

    def _query(
        self,
        query: str | None = None,
        *,
        to: str | None = None,
        subject: str | None = None,
        from_: str | None = None,
    ) -> str:
        """A search query from filters, scoped to this view's inbox."""
        return calls.build_query(
            to=to, subject=subject, from_=from_, query=query, inbox=self.inbox_name
        )

    def _search_call(self, query: str, limit: int) -> calls.Call[list[Summary]]:
        return calls.search(self._query(query), limit)
