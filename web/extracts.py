"""The message page's one-time codes and links as fragments, for mail too big to scan inline.

``queries.load_message`` runs :mod:`mailsandbox.extract` (the same functions as
``/api/v1/message/{ID}/links`` and ``/codes``) for ordinary mail. For big bodies the page comes
back at once and asks these routes instead: codes as soon as it loads, links when the Links tab
is first shown. The parse comes from the sandbox's reader and the scan runs on a worker thread,
never on the event loop. An unknown message has no codes and no links.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from fastapi import APIRouter, Depends, Response

from mailsandbox import extract
from mailsandbox.reading import compute
from mailsandbox.storage import messages
from mailsandbox.web.render import UI, get_ui

router = APIRouter(include_in_schema=False)


def _fragment_route(kind: str, scan: Callable[[str, str], Sequence[object]]) -> None:
    """``GET /ui/message/{ID}/<kind>``: ``scan(text, html)`` rendered with ``_<kind>.html``."""

    async def route(message_id: str, ui: UI = Depends(get_ui)) -> Response:
        sandbox, visible = ui.sandbox, ui.visible
        summary = await sandbox.db.read(
            lambda conn: messages.get_summary(conn, message_id, visible)
        )
        found: Sequence[object] = []
        if summary is not None:
            parsed = (await sandbox.reader.open(summary.id, summary.seq, summary.size)).parsed
            size = len(parsed.text) + len(parsed.html)
            found = await compute(size, scan, parsed.text, parsed.html)
        return ui.page(f"_{kind}.html", {kind: found, "message_id": message_id})

    route.__name__ = f"message_{kind}"
    router.add_api_route(f"/ui/message/{{message_id}}/{kind}", route, methods=["GET"])


_fragment_route("codes", extract.find_codes)
_fragment_route("links", extract.find_links)
