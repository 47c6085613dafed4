"""Link check: the HTTP status of every link and image in a message (Mailpit's ``link-check``).

Links are collected as Mailpit does (``internal/linkcheck/main.go``): ``a[href]``, then
``link[rel=stylesheet]``, then ``img[src]`` of the HTML (values holding an http(s) URL), then
bare and ``<angle-bracketed>`` URLs of the text; duplicates dropped, at most 100. Each is asked
with ``HEAD`` (never GET), redirects followed only when asked (at most two hops, each one checked
again), and the answer is ``{"URL", "StatusCode", "Status"}``; a transport failure is status 0
with a short reason, a refused address 451.

Bounds: :data:`REQUEST_TIMEOUT` per request, :data:`TOTAL_TIMEOUT` for the whole check (links
not reached by then say so), :data:`CONCURRENCY` requests at once and :data:`PER_HOST` per
host. Every hop resolves the host itself and connects to the address it checked (no second
lookup a rebinding DNS could answer differently), under :class:`~.netguard.Policy`.

Mailpit also caches results for 60 s and rate-limits per domain; a developer re-checking their
own app after a fix wants fresh answers, so neither is done here.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import re
import socket
import ssl
from dataclasses import dataclass, field
from http import HTTPStatus
from itertools import islice
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from mailsandbox import __version__
from mailsandbox.checks import htmldoc
from mailsandbox.checks.netguard import Policy

MAX_LINKS = 100
REQUEST_TIMEOUT = 10.0
TOTAL_TIMEOUT = 30.0
CONCURRENCY = 8
PER_HOST = 2
MAX_REDIRECTS = 2
USER_AGENT = f"mailsandbox/{__version__} (link check)"

_LINK = re.compile(r"\b(http|https)://([\-\w@:%_\+'!.~#?,&/=;]+)", re.IGNORECASE | re.ASCII)
_TEXT_LINK = re.compile(
    r"([^<]\b)((http|https)://([\-\w@:%_\+'!.~#?,&/=;]+))", re.IGNORECASE | re.ASCII
)
_ANGLE_LINK = re.compile(r"<((http|https)://([\-\w@:%_\+'!.~#?,&/=;][^>]+))>", re.IGNORECASE)


def collect(html: str, text: str) -> list[str]:
    """The URLs to check, in Mailpit's order."""
    links: dict[str, None] = {}

    def add(url: str) -> bool:
        links.setdefault(url, None)
        return len(links) < MAX_LINKS

    if html:
        document = htmldoc.parse(html)
        wanted = [
            *((e, "href") for e in document.find("a")),
            *((e, "href") for e in document.find("link") if e.get("rel") == "stylesheet"),
            *((e, "src") for e in document.find("img")),
        ]
        for element, attribute in wanted:
            value = element.get(attribute)
            if value is not None and _LINK.search(value) and not add(value):
                return list(links)
    for match in islice(_TEXT_LINK.finditer(text), MAX_LINKS * 3):
        if not add(match.group(2)):
            return list(links)
    for match in islice(_ANGLE_LINK.finditer(text), MAX_LINKS * 3):
        if not add(match.group(1).replace("\n", "")):
            return list(links)
    return list(links)


class Refused(Exception):
    """The address may not be reached; ``str()`` is the Status."""


class Failed(Exception):
    """The request did not complete; ``str()`` is the Status."""


def _valid(url: str) -> bool:
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False


def _reason(exc: BaseException) -> str:
    """A short reason, like the tail of a Go error (``connection refused``, ``no such host``)."""
    if isinstance(exc, httpx.TimeoutException):
        return f"timeout after {REQUEST_TIMEOUT:g} s"
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError) or (
            isinstance(cause, OSError) and cause.errno == errno.ECONNREFUSED
        ):
            return "connection refused"
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"certificate error: {cause.verify_message}"
        if isinstance(cause, ssl.SSLError):
            return f"TLS error: {cause.reason or cause}"
        cause = cause.__cause__ or cause.__context__
    text = str(exc) or type(exc).__name__
    return text.rsplit(": ", 1)[-1]


@dataclass
class Checker:
    policy: Policy
    follow: bool
    client: httpx.AsyncClient
    limit: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(CONCURRENCY))
    hosts: dict[str, asyncio.Semaphore] = field(default_factory=dict)

    async def _address(self, host: str, port: int) -> str:
        try:
            literal = ipaddress.ip_address(host.strip("[]"))
            addresses = [literal]
        except ValueError:
            loop = asyncio.get_running_loop()
            try:
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except socket.gaierror:
                raise Failed("no such host") from None
            addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
        if not addresses:
            raise Failed("no such host")
        for address in addresses:
            reason = self.policy.refusal(address, port)
            if reason is not None:
                raise Refused(reason)
        return str(addresses[0])

    async def _head(self, url: str) -> httpx.Response:
        """One HEAD to ``url``, connecting to the checked address with the real Host and SNI."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = await self._address(host, port)
        pinned = f"[{address}]" if ":" in address else address
        target = parts._replace(netloc=f"{pinned}:{port}").geturl()
        headers = {"Host": parts.netloc.rsplit("@", 1)[-1], "User-Agent": USER_AGENT}
        extensions: dict[str, Any] = {"sni_hostname": host} if parts.scheme == "https" else {}
        request = self.client.build_request("HEAD", target, headers=headers, extensions=extensions)
        return await self.client.send(request)

    async def status(self, url: str) -> tuple[int, str]:
        if not _valid(url):
            return 0, "invalid URL"
        host = urlsplit(url).hostname or ""
        async with self.limit, self.hosts.setdefault(host, asyncio.Semaphore(PER_HOST)):
            try:
                current = url
                for hop in range(MAX_REDIRECTS + 1):
                    response = await self._head(current)
                    location = response.headers.get("location")
                    if not (self.follow and response.is_redirect and location):
                        return response.status_code, _phrase(response.status_code)
                    if hop == MAX_REDIRECTS:
                        return 0, "too many redirects"
                    current = urljoin(current, location)
                    if not _valid(current):
                        return 0, "blocked redirect to invalid URL"
                return 0, "too many redirects"  # pragma: no cover (the loop always returns)
            except Refused as exc:
                return 451, str(exc)
            except Failed as exc:
                return 0, str(exc)
            except (httpx.HTTPError, OSError, ssl.SSLError) as exc:
                return 0, _reason(exc)


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return ""


async def check(
    links: list[str], *, follow: bool, policy: Policy, verify_tls: bool = True
) -> dict[str, Any]:
    """Mailpit's LinkCheckResponse for ``links`` (in their order)."""
    timeout = httpx.Timeout(REQUEST_TIMEOUT)
    results: list[dict[str, Any]] = [
        {"URL": url, "StatusCode": 0, "Status": f"not checked: over the {TOTAL_TIMEOUT:g} s limit"}
        for url in links
    ]
    async with httpx.AsyncClient(
        timeout=timeout, verify=verify_tls, follow_redirects=False, trust_env=False
    ) as client:
        checker = Checker(policy, follow, client)

        async def one(index: int) -> None:
            code, status = await checker.status(links[index])
            results[index]["StatusCode"], results[index]["Status"] = code, status

        tasks = [asyncio.ensure_future(one(i)) for i in range(len(links))]
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=TOTAL_TIMEOUT)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    errors = sum(1 for r in results if r["StatusCode"] >= 400 or r["StatusCode"] == 0)
    return {"Errors": errors, "Links": results}
