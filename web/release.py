"""The message page's Release panel: send the message to the relay server, and its record.

The panel shows every release and auto-relay of the message (when, to whom, the upstream's
reply) and, when a relay server is configured (``--relay-host``), a form to release it to the
addresses typed in (the envelope recipients to start with). The POST is same-origin only; an
htmx request gets the panel back, with the upstream's error if it failed, a plain form post a
303 to the message page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter, Depends, Form, Response
from fastapi.responses import RedirectResponse

from mailsandbox.relay import ReleaseError, relay_of
from mailsandbox.relay.store import Release
from mailsandbox.runtime import Sandbox
from mailsandbox.storage.messages import MessageSummary
from mailsandbox.web.guard import require_same_origin
from mailsandbox.web.render import UI, get_ui

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_same_origin)])


@dataclass
class ReleasePanel:
    message_id: str
    enabled: bool  # a relay server is configured
    server: str
    to: str  # what the form's field holds
    history: list[Release] = field(default_factory=list)
    error: str = ""
    sent: bool = False


async def release_panel(sandbox: Sandbox, summary: MessageSummary) -> ReleasePanel:
    """The panel of a message the page already found (so one the login may see)."""
    relay = relay_of(sandbox)
    config = relay.config
    return ReleasePanel(
        message_id=summary.id,
        enabled=config is not None,
        server=config.server if config is not None else "",
        to=", ".join(summary.recipients),
        history=await relay.history(summary.id),
    )


def split_addresses(text: str) -> list[str]:
    """The addresses typed in the field: separated by commas, semicolons or line breaks."""
    cleaned = text.replace(";", ",").replace("\n", ",")
    return [part.strip() for part in cleaned.split(",") if part.strip()]


@router.post("/ui/message/{message_id}/release")
async def release(message_id: str, to: str = Form(""), ui: UI = Depends(get_ui)) -> Response:
    relay = relay_of(ui.sandbox)
    error = ""
    try:
        await relay.release(message_id, split_addresses(to), ui.visible)
    except ReleaseError as exc:
        if exc.status == 404:
            return ui.page("not_found.html", {}, status_code=404)
        error = exc.text
    if ui.request.headers.get("hx-request") != "true":
        return RedirectResponse(f"/view/{message_id}", status_code=303)
    config = relay.config
    panel = ReleasePanel(
        message_id=message_id,
        enabled=config is not None,
        server=config.server if config is not None else "",
        to=to,
        history=await relay.history(message_id, ui.visible),
        error=error,
        sent=not error,
    )
    return ui.page("_release.html", {"release": panel})
