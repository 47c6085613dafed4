"""The message page's one-time codes and links as fragments, for mail too big to scan inline.

``queries.load_message`` runs :mod:`mailsandbox.extract` (the same functions as
``/api/v1/message/{ID}/links`` and ``/codes``) for ordinary mail. For big bodies the page comes
back at once and asks these routes instead: codes as soon as it loads, links when the Links tab
is first shown. The scan runs on a reader thread, never on the event loop. An unknown message
has no codes and no links.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from fastapi import APIRouter, Depends, Response

from mailsandbox import extract
from mailsandbox.web.queries import load_bodies
from mailsandbox.web.render import UI, get_ui

router = APIRouter(include_in_schema=False)


def _fragment_route(kind: str, scan: Callable[[str, str], Sequence[object]]) -> None:
    """``GET /ui/message/{ID}/<kind>``: ``scan(text, html)`` rendered with ``_<kind>.html``."""

    async def route(message_id: str, ui: UI = Depends(get_ui)) -> Response:
        visible = ui.visible
        found = await ui.sandbox.db.read(lambda conn: scan(*load_bodies(conn, message_id, visible)))
        return ui.page(f"_{kind}.html", {kind: found, "message_id": message_id})

    route.__name__ = f"message_{kind}"
    router.add_api_route(f"/ui/message/{{message_id}}/{kind}", route, methods=["GET"])


_fragment_route("codes", extract.find_codes)
_fragment_route("links", extract.find_links)
