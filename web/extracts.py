"""The message page's one-time codes and links as fragments, for mail too big to scan inline.

``queries.load_message`` runs :mod:`sandbox.extract` (the same functions as
``/api/v1/message/{ID}/links`` and ``/codes``) for ordinary mail. For big bodies the page comes
back at once and asks these routes instead: codes as soon as it loads, links when the Links tab
is first shown. The scan runs on a reader thread, never on the event loop. An unknown message
has no codes and no links.
"""

from __future__ import annotations

import sqlite3

from fastapi import APIRouter, Depends, Request, Response

from sandbox import extract
from sandbox.api.deps import get_sandbox
from sandbox.runtime import Sandbox
from web.queries import load_bodies
from web.render import Renderer, get_renderer

router = APIRouter(include_in_schema=False)


@router.get("/ui/message/{message_id}/codes")
async def message_codes(
    request: Request,
    message_id: str,
    sandbox: Sandbox = Depends(get_sandbox),
    renderer: Renderer = Depends(get_renderer),
) -> Response:
    def scan(conn: sqlite3.Connection) -> list[extract.FoundCode]:
        return extract.find_codes(*load_bodies(conn, message_id))

    codes = await sandbox.db.read(scan)
    return renderer.page(request, "_codes.html", {"codes": codes, "message_id": message_id})


@router.get("/ui/message/{message_id}/links")
async def message_links(
    request: Request,
    message_id: str,
    sandbox: Sandbox = Depends(get_sandbox),
    renderer: Renderer = Depends(get_renderer),
) -> Response:
    def scan(conn: sqlite3.Connection) -> list[extract.FoundLink]:
        return extract.find_links(*load_bodies(conn, message_id))

    links = await sandbox.db.read(scan)
    return renderer.page(request, "_links.html", {"links": links, "message_id": message_id})
