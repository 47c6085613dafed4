"""The Suppressions page (``/ui/suppressions``): each provider's suppression lists, searchable,
with a button to remove one address and one to clear a list.

The lists are the shared ones of :mod:`mailsandbox.storage.suppressions` that the event engine
checks before delivering: SendGrid's are account-wide (scope '', which mail sent over SMTP and
``/api/v1/send`` shares), Mailgun's belong to a sending domain. The page state (provider,
list, domain, search) lives in the URL. Removing and clearing are POSTs, same-origin only
(:func:`.guard.require_same_origin`), that go back to the page they came from (``next``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from mailsandbox.runtime import Sandbox
from mailsandbox.storage import suppressions as store
from mailsandbox.web.guard import local_path, require_same_origin
from mailsandbox.web.render import UI, get_ui

PATH = "/ui/suppressions"
SHOWN = 500  # entries listed at most (the search narrows it down)
router = APIRouter(include_in_schema=False)
actions = APIRouter(include_in_schema=False, dependencies=[Depends(require_same_origin)])


@dataclass(frozen=True)
class SuppressionList:
    kind: str  # the storage kind
    title: str  # "Spam reports"
    name: str  # "spam report", as in "on the SendGrid spam report list"


@dataclass(frozen=True)
class Provider:
    key: str
    label: str
    lists: tuple[SuppressionList, ...]
    by_domain: bool  # Mailgun: one set of lists per sending domain

    def find(self, kind: str) -> SuppressionList | None:
        return next((item for item in self.lists if item.kind == kind), None)


BOUNCES = SuppressionList("bounce", "Bounces", "bounce")
UNSUBSCRIBES = SuppressionList("unsubscribe", "Unsubscribes", "unsubscribe")
SENDGRID = Provider(
    "sendgrid",
    "SendGrid",
    (
        BOUNCES,
        SuppressionList("block", "Blocks", "block"),
        SuppressionList("spam_report", "Spam reports", "spam report"),
        SuppressionList("invalid_email", "Invalid emails", "invalid email"),
        UNSUBSCRIBES,
        SuppressionList("global_unsubscribe", "Global unsubscribes", "global unsubscribe"),
    ),
    by_domain=False,
)
MAILGUN = Provider(
    "mailgun",
    "Mailgun",
    (
        BOUNCES,
        UNSUBSCRIBES,
        SuppressionList("complaint", "Complaints", "complaint"),
        SuppressionList("whitelist", "Whitelists", "whitelist"),
    ),
    by_domain=True,
)
PROVIDERS = {provider.key: provider for provider in (SENDGRID, MAILGUN)}


def provider_for(source: str) -> Provider:
    """Whose lists a message's recipients are checked against: Mailgun's for Mailgun mail,
    the account-wide (SendGrid) lists for everything else."""
    return MAILGUN if source == MAILGUN.key else SENDGRID


@dataclass(frozen=True)
class View:
    """Which list the page shows, from its URL; anything unknown falls back to the first."""

    provider: Provider
    kind: str
    domain: str
    q: str

    @classmethod
    def of(cls, provider: str, kind: str, domain: str, q: str) -> View:
        chosen = PROVIDERS.get(provider, SENDGRID)
        found = chosen.find(kind) or chosen.lists[0]
        scope = domain.strip().lower()[:253] if chosen.by_domain else ""
        return cls(chosen, found.kind, scope, q.strip()[:320])

    @property
    def shown(self) -> SuppressionList:
        """The list on screen."""
        found = self.provider.find(self.kind)
        assert found is not None
        return found

    def url(self, **changes: str) -> str:
        params = {"provider": self.provider.key, "list": self.kind, "domain": self.domain}
        params |= {"q": self.q} | changes
        return f"{PATH}?{urlencode({k: v for k, v in params.items() if v})}"


def list_url(provider: Provider, kind: str, scope: str, email: str = "") -> str:
    """The page showing one list (searched for ``email``, if given)."""
    return View(provider, kind, scope, email).url()


def _domains(counts: dict[tuple[str, str], int]) -> list[str]:
    """Mailgun sending domains that have entries on any of Mailgun's lists."""
    kinds = {item.kind for item in MAILGUN.lists}
    return sorted({scope for scope, kind in counts if scope and kind in kinds})


async def _context(sandbox: Sandbox, view: View) -> dict[str, Any]:
    counts = await sandbox.db.read(store.counts)
    domains = _domains(counts)
    if view.provider.by_domain and not view.domain and domains:
        view = View(view.provider, view.kind, domains[0], view.q)  # the first one with entries
    scope, kind, q = view.domain, view.kind, view.q or None
    entries, matched = await sandbox.db.read(
        lambda conn: (
            store.list_entries(conn, kind, scope, limit=SHOWN, email_contains=q),
            store.count_entries(conn, kind, scope, email_contains=q),
        )
    )
    return {
        "view": view,
        "providers": list(PROVIDERS.values()),
        "counts": counts,
        "domains": domains,
        "entries": entries,
        "matched": matched,
        "shown": SHOWN,
    }


@router.get(PATH)
async def suppressions_page(
    ui: UI = Depends(get_ui),
    provider: str = "sendgrid",
    kind: str = Query("", alias="list"),
    domain: str = "",
    q: str = "",
) -> Response:
    view = View.of(provider, kind, domain, q)
    return ui.page("suppressions.html", await _context(ui.sandbox, view))


def _back(request: Request, next_url: str, view: View) -> Response:
    """To the page the form came from: htmx follows ``HX-Redirect``, a plain form a 303."""
    target = local_path(next_url, view.url(q=""))
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


@actions.post(PATH + "/remove")
async def remove(
    request: Request,
    provider: str = Form(...),
    kind: str = Form(..., alias="list"),
    domain: str = Form(""),
    email: str = Form(...),
    next: str = Form(""),
    ui: UI = Depends(get_ui),
) -> Response:
    view = View.of(provider, kind, domain, "")
    if view.kind == kind:  # never another list than the one named
        await ui.sandbox.db.write(lambda conn: store.remove(conn, view.kind, email, view.domain))
    return _back(request, next, view)


@actions.post(PATH + "/clear")
async def clear(
    request: Request,
    provider: str = Form(...),
    kind: str = Form(..., alias="list"),
    domain: str = Form(""),
    next: str = Form(""),
    ui: UI = Depends(get_ui),
) -> Response:
    view = View.of(provider, kind, domain, "")
    if view.kind == kind:
        await ui.sandbox.db.write(lambda conn: store.clear(conn, view.kind, view.domain))
    return _back(request, next, view)


def install(app: FastAPI, sandbox: Sandbox) -> None:
    from mailsandbox.web import add_nav_link

    add_nav_link("Suppressions", PATH)
    app.include_router(router)
    app.include_router(actions)
