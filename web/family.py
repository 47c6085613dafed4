"""The web UI's part of the HTTP surface: its paths, their policies, and its error pages.

Pages (GET) may be opened from a link on another site (a top-level navigation); everything
else is an action that only the UI's own pages may send, and so is the link check (a GET that
makes this server request every link of a message). Message parts are loaded by documents
that show a message's HTML (the preview, same-origin; a recipient view or a preview opened on
its own elsewhere), so they are "message content" (see ``mailsandbox.api.surface``). An
unknown UI path gets the UI's "not found" page.
"""

from __future__ import annotations

from fastapi import Request
from starlette.responses import PlainTextResponse, Response

from mailsandbox.api.scoping import Kind, Scoping
from mailsandbox.api.surface import (
    MESSAGE_CONTENT,
    UI_ACTION,
    UI_PAGE,
    Family,
    claims_any,
    claims_pattern,
    claims_prefixes,
    rule,
)
from mailsandbox.web.render import Renderer

# "/" only for reading: a POST to the root may be another provider's (SES's Query API).
CLAIMS = claims_any(claims_prefixes("/ui/", "/view/"), claims_pattern(r"/$", ("GET", "HEAD")))


class UiErrors:
    """The "not found" page for an unknown UI path; plain text for other errors."""

    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer

    def not_found(self, request: Request) -> Response:
        context = {"heading": "Page not found", "detail": "There is nothing at this address."}
        return self.renderer.page(request, "not_found.html", context, status_code=404)

    def error(self, request: Request, status: int, message: str) -> Response:
        return PlainTextResponse(f"{message}\n", status_code=status)


def ui_scoping(scoping: Scoping) -> None:
    """What a login scoped to some inboxes may use (see ``mailsandbox.api.scoping``)."""
    scoping.add(
        Kind.FILTERED,
        "GET /",
        "GET /ui/list",
        "GET /ui/events",
        "GET /ui/inboxes",
        "GET /ui/message/{message_id}/*",
        "POST /ui/message/{message_id}/*",
        "POST /ui/messages/*",
        "GET /view/latest",
        "GET /view/{message_id}",
    )
    scoping.add(Kind.NO_MAIL, "GET /ui/static/*")
    scoping.add(
        Kind.ALL_INBOXES,
        "GET,POST /ui/compose",  # as POST /api/v1/inbound
        "POST /ui/tags/*",  # rename or delete a tag everywhere
        "GET,POST /ui/rules",
        "POST /ui/rules/*",
        "GET /ui/suppressions",
        "POST /ui/suppressions/*",
        "POST /ui/webhooks/*",
        "POST /ui/inboxes/*",
    )


NAME = "ui"


def ui_family(renderer: Renderer) -> Family:
    return Family(
        NAME,
        CLAIMS,
        UI_PAGE,
        routes=(
            rule("GET,HEAD /ui/message/{message_id}/part/{part_id}", MESSAGE_CONTENT),
            # A read, but it sends requests out to every link of the message: our pages only.
            rule("GET,HEAD /ui/message/{message_id}/checks/links", UI_ACTION),
            rule("POST,PUT,PATCH,DELETE /*", UI_ACTION),
        ),
        errors=UiErrors(renderer),
        label="web UI",
    )
