"""The UI's HTML pages: the inbox (and its live-refreshed list fragment) and the message view.

The inbox state (search query, inbox filter, page offset) lives in the URL, so a search can be
bookmarked and shared; list fragments tell htmx to keep the address bar in sync
(``HX-Replace-Url``). A live refresh (``/ui/list?live=1``) re-reads the state from the
address the browser reports in ``HX-Current-URL``. The page size is a per-browser choice, kept
in the ``mailsandbox_page_size`` cookie (set by the page's script, read here).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from mailsandbox.api.deps import get_sandbox
from mailsandbox.api.scoping import visible_inboxes
from mailsandbox.api.surface import is_cross_site
from mailsandbox.events import tracking
from mailsandbox.logins import Visible
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import events, messages
from mailsandbox.web import queries
from mailsandbox.web.dropped import dropped_recipients
from mailsandbox.web.guard import local_path
from mailsandbox.web.inbound import inbound_context
from mailsandbox.web.overview import OVERVIEW_KEY, OverviewCache
from mailsandbox.web.release import release_panel
from mailsandbox.web.render import UI, get_ui

router = APIRouter(include_in_schema=False)

EVENT_TYPES = [t for t in events.TYPES if t != "queued"]


PAGE_SIZE_COOKIE = "mailsandbox_page_size"


def page_size(request: Request) -> int:
    """The page size this browser chose (one of ``queries.PAGE_SIZES``), else the default."""
    text = request.cookies.get(PAGE_SIZE_COOKIE, "")
    size = int(text) if text.isdigit() else 0
    return size if size in queries.PAGE_SIZES else queries.PAGE_SIZE


class InboxState:
    """The inbox view's URL parameters, validated, and the browser's page size."""

    def __init__(
        self, q: str = "", inbox: str = "", start: str | int = 0, limit: int = queries.PAGE_SIZE
    ) -> None:
        self.q = q.strip()[:1000]
        self.inbox = inbox.strip()[:100]
        text = str(start)
        self.start = min(int(text), 10_000_000) if text.isdigit() else 0
        self.limit = limit

    @classmethod
    def from_url(cls, url: str, limit: int = queries.PAGE_SIZE) -> InboxState:
        params = parse_qs(urlsplit(url).query)
        return cls(
            params.get("q", [""])[0],
            params.get("inbox", [""])[0],
            params.get("start", ["0"])[0],
            limit,
        )

    def export_url(self) -> str:
        """The current search (or listing) as an mbox download."""
        params = {"query": self.q, "inbox": self.inbox}
        return "/api/v1/export?" + urlencode(
            {**{k: v for k, v in params.items() if v}, "format": "mbox"}
        )

    def url(self, start: int | None = None) -> str:
        params = {"q": self.q, "inbox": self.inbox, "start": self.start if start is None else start}
        query = urlencode({k: v for k, v in params.items() if v})
        return f"/?{query}" if query else "/"


def state_of(request: Request) -> InboxState:
    limit = page_size(request)
    if request.query_params.get("live") and request.headers.get("hx-current-url"):
        current = request.headers["hx-current-url"]
        if urlsplit(current).path == "/":
            return InboxState.from_url(current, limit)
    p = request.query_params
    return InboxState(p.get("q", ""), p.get("inbox", ""), p.get("start", "0"), limit)


async def inbox_context(
    sandbox: Sandbox, state: InboxState, visible: Visible = None
) -> dict[str, object]:
    """What the inbox page shows; a scoped login's numbers are its own (never cached)."""
    cache: OverviewCache = sandbox.extensions[OVERVIEW_KEY]
    generation, cached = cache.generation, cache.get() if visible is None else None
    page = await sandbox.db.read(
        lambda conn: queries.load_inbox(
            conn,
            state.q,
            state.start,
            state.inbox,
            cached,
            limit=state.limit,
            visible=visible,
            beside=sandbox.db.read_beside,
        )
    )
    if cached is None and page.overview is not None and visible is None:
        cache.put(generation, page.overview)
    if state.q and not page.error:
        page.notice = sandbox.mailbox.index.incomplete()  # search results may lack mail
    smtp_host, smtp_port = sandbox.smtp_address
    return {
        "page": page,
        "state": state,
        "http_base": "",
        "smtp_host": smtp_host,
        "smtp_port": smtp_port,
        "smtp_tls": smtp_tls_summary(sandbox),
        "page_sizes": queries.PAGE_SIZES,
    }


def smtp_tls_summary(sandbox: Sandbox) -> str:
    if sandbox.tls_certificate is None:
        return "no TLS (start with --smtp-tls self-signed to offer STARTTLS)"
    return "STARTTLS required" if sandbox.settings.smtp_require_tls else "STARTTLS optional"


def list_response(ui: UI, context: dict[str, object]) -> Response:
    state = context["state"]
    assert isinstance(state, InboxState)
    response = ui.page("_list.html", {**context, "fragment": True})
    response.headers["HX-Replace-Url"] = state.url()
    return response


@router.get("/")
async def inbox(ui: UI = Depends(get_ui)) -> Response:
    context = await inbox_context(ui.sandbox, state_of(ui.request), ui.visible)
    return ui.page("inbox.html", context)


@router.get("/ui/list")
async def inbox_list(ui: UI = Depends(get_ui)) -> Response:
    return list_response(ui, await inbox_context(ui.sandbox, state_of(ui.request), ui.visible))


@router.get("/view/latest")
async def latest(
    sandbox: Sandbox = Depends(get_sandbox), visible: Visible = Depends(visible_inboxes)
) -> Response:
    newest = await sandbox.db.read(lambda conn: messages.latest_id(conn, visible))
    return RedirectResponse(f"/view/{newest}" if newest else "/", status_code=302)


@router.get("/view/{message_id}")
async def message_page(message_id: str, ui: UI = Depends(get_ui)) -> Response:
    sandbox, visible = ui.sandbox, ui.visible
    summary = await sandbox.db.read(lambda conn: messages.get_summary(conn, message_id, visible))
    if summary is None:
        return ui.page("not_found.html", {}, status_code=404)
    opened = await sandbox.reader.open(summary.id, summary.seq, summary.size, summary.subject)
    detail = await sandbox.db.read(lambda conn: queries.load_message(conn, summary, opened))
    if not detail.summary.read and not is_cross_site(ui.request):  # a link elsewhere: read only
        await sandbox.mailbox.set_read([message_id], True)
        detail.summary.read = True
    (newer, older), all_tags = await sandbox.db.read(
        lambda conn: (
            queries.neighbours(conn, detail.summary, visible),
            messages.all_tags(conn, visible),
        )
    )
    back = local_path(ui.request.query_params.get("back", "/"))
    unread = await sandbox.db.read(lambda conn: messages.counts(conn, visible)[1])
    context = {
        "m": detail,
        "s": detail.summary,
        "newer": newer,
        "older": older,
        "all_tags": all_tags,
        "back": back,
        "unread": unread,
        "remote_content": detail.remote_content,
        "event_types": EVENT_TYPES,
        "dropped": await dropped_recipients(sandbox, detail.summary, detail.events),
        "release": await release_panel(sandbox, detail.summary),
        # "Open as recipient": the message with the tracking its send asked for, so opening it
        # and clicking its links create real opened/clicked events.
        "recipient_views": [
            (r, f"/t/view/{tracking.make_token(message_id, r)}") for r in detail.summary.recipients
        ]
        if any(tracking.wanted(detail.summary.metadata))
        else [],
        **await inbound_context(ui, message_id),  # the "Inbound routing" section
    }
    return ui.page("message.html", context)


@router.get("/ui/message/{message_id}/events")
async def message_events(message_id: str, ui: UI = Depends(get_ui)) -> Response:
    visible = ui.visible
    summary = await ui.sandbox.db.read(lambda c: messages.get_summary(c, message_id, visible))
    if summary is None:
        return ui.page("not_found.html", {}, status_code=404)
    found, webhooks = await ui.sandbox.db.read(
        lambda conn: (events.for_message(conn, message_id), queries.load_webhooks(conn, message_id))
    )
    dropped = await dropped_recipients(ui.sandbox, summary, found)
    context = {"events": found, "webhooks": webhooks, "message_id": message_id, "dropped": dropped}
    return ui.page("_events.html", context)


@router.get("/ui/message/{message_id}/gone")
async def message_gone(message_id: str, ui: UI = Depends(get_ui)) -> Response:
    """Live check from an open message page: a notice once the message was deleted."""
    visible = ui.visible
    found = await ui.sandbox.db.read(lambda c: messages.get_summary(c, message_id, visible))
    return ui.page("_gone.html", {"exists": found is not None, "message_id": message_id})
