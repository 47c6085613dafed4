"""Who is calling and for which domain: HTTP Basic (user ``api``), keys enforced only when
``--mailgun-api-key`` is set, domains restricted only when ``--mailgun-domain`` is set.

Also registers the ``mgdomain`` path convertor (a segment containing a dot), so Mailgun's
``/v3/{domain}/...`` routes never shadow SendGrid's dot-less ``/v3/mail/...`` and friends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.convertors import Convertor, register_url_convertor

from mailsandbox.emulators.common.auth import basic_credentials
from mailsandbox.emulators.mailgun.errors import MailgunError, not_found
from mailsandbox.runtime import Sandbox


class DomainConvertor(Convertor[str]):
    """A path segment that looks like a domain (has a dot)."""

    regex = r"[^/]*\.[^/]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("mgdomain", DomainConvertor())


@dataclass(frozen=True)
class Caller:
    """An authenticated request: the API key used (the inbox) and the domain in the path."""

    key: str
    domain: str
    sandbox: Sandbox

    @property
    def inbox(self) -> str:
        return self.key or "default"


def check_key(request: Request, sandbox: Sandbox) -> str:
    """The API key of the request; 401 when keys are enforced and this one is not accepted."""
    credentials = basic_credentials(request)
    keys = sandbox.settings.mailgun_api_key
    if keys and (credentials is None or credentials[0] != "api" or credentials[1] not in keys):
        raise MailgunError(401, "Forbidden")
    return credentials[1] if credentials else ""


def enforced_key(request: Request) -> bool:
    """Whether the request carries one of the keys ``--mailgun-api-key`` enforces (what the
    security layer asks of management calls when the sandbox runs with ``--ui-auth``)."""
    keys = request.app.state.sandbox.settings.mailgun_api_key
    credentials = basic_credentials(request)
    return (
        bool(keys)
        and credentials is not None
        and credentials[0] == "api"
        and (credentials[1] in keys)
    )


def check_domain(sandbox: Sandbox, domain: str) -> None:
    allowed = sandbox.settings.mailgun_domain
    if allowed and domain.lower() not in {d.lower() for d in allowed}:
        raise not_found(f"Domain not found: {domain}")


async def caller(request: Request) -> Caller:
    """FastAPI dependency for every Mailgun route with a ``{domain}`` path parameter (async, so
    FastAPI does not hop to a worker thread for it)."""
    sandbox: Sandbox = request.app.state.sandbox
    key = check_key(request, sandbox)
    domain = str(request.path_params.get("domain", ""))
    if domain:
        check_domain(sandbox, domain)
    return Caller(key=key, domain=domain, sandbox=sandbox)


_BASES: dict[tuple[Any, ...], str] = {}  # what base_url made of each way in, a few at most


def base_url(request: Request) -> str:
    """``http://host:port`` as the client reached us (paging links are absolute; every send
    records it). Starlette's ``request.base_url``, built once per scheme, server address,
    Host header and root path it depends on: building it was ~2.5 % of a send's CPU."""
    scope = request.scope
    server = scope.get("server")
    key = (
        scope.get("scheme", "http"),
        tuple(server) if server else None,
        next((value for name, value in scope["headers"] if name == b"host"), None),
        scope.get("app_root_path", scope.get("root_path", "")),
    )
    found = _BASES.get(key)
    if found is None:
        if len(_BASES) >= 256:  # Host is the client's to choose: keep the memo small
            _BASES.clear()
        found = _BASES[key] = str(request.base_url).rstrip("/")
    return found
