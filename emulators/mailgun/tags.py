"""``/v3/{domain}/tags``: the tags of a domain's messages, one tag, its description, and its
stats (mailgun/documentation ``api-tags.rst``; mailgun.js ``domains.domainTags``).

``GET /v3/{domain}/tags`` (``limit``, default 100; ``prefix``; paged by tag name:
``?page=next&tag=<last>``) → ``{"items": [{"tag", "description", "first-seen", "last-seen"}],
"paging": {...}}``; one tag: ``GET|PUT|DELETE /v3/{domain}/tags/{tag}`` (api-tags.rst,
mailgun.js) or ``/v3/{domain}/tag?tag=...`` (the current API reference), PUT taking
``description``; ``GET /v3/{domain}/tags/{tag}/stats`` counts as ``/v3/{domain}/stats/total``
does, for the messages with that tag. Dates are as the API reference shows them
(``2023-01-02 02:14:27 +0000 UTC``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from mailsandbox.emulators.mailgun import tag_store
from mailsandbox.emulators.mailgun.auth import Caller, base_url, caller
from mailsandbox.emulators.mailgun.errors import bad_request, mg_json, not_found
from mailsandbox.emulators.mailgun.forms import int_param, read_form
from mailsandbox.emulators.mailgun.stats import period_of, read_stats, stats_json
from mailsandbox.storage.sql import Connection

router = APIRouter()
PREFIX = "/v3/{domain:mgdomain}/tags"
MAX_LIMIT = 1000


def _seen(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S +0000 UTC")


def tag_json(tag: tag_store.Tag) -> dict[str, Any]:
    return {
        "tag": tag.tag,
        "description": tag.description,
        "first-seen": _seen(tag.first_seen),
        "last-seen": _seen(tag.last_seen),
    }


@router.get(PREFIX)
async def list_tags(request: Request, c: Caller = Depends(caller)) -> JSONResponse:
    q = request.query_params
    limit = int_param(q.get("limit"), "limit", 100, MAX_LIMIT)
    page, cursor, prefix = q.get("page", "first"), q.get("tag", ""), q.get("prefix", "")
    every = await c.sandbox.db.read(lambda conn: tag_store.tags(conn, c.domain))
    every = [t for t in every if t.tag.startswith(prefix)]
    if page == "next":
        shown = [t for t in every if t.tag > cursor][:limit]
    elif page in ("prev", "previous"):
        shown = [t for t in every if t.tag < cursor][-limit:]
    elif page == "last":
        shown = every[-limit:]
    else:
        shown = every[:limit]
    url = f"{base_url(request)}/v3/{c.domain}/tags"
    first = quote(shown[0].tag if shown else cursor)
    last = quote(shown[-1].tag if shown else cursor)
    paging = {
        "first": f"{url}?page=first&limit={limit}",
        "last": f"{url}?page=last&limit={limit}",
        "next": f"{url}?page=next&tag={last}&limit={limit}",
        "previous": f"{url}?page=prev&tag={first}&limit={limit}",
    }
    return mg_json({"items": [tag_json(t) for t in shown], "paging": paging})


async def _tag(c: Caller, tag: str) -> tag_store.Tag:
    found = await c.sandbox.db.read(lambda conn: tag_store.tags(conn, c.domain, tag))
    if not found:
        raise not_found("tag not found")
    return found[0]


@router.get(PREFIX + "/{tag}")
async def get_tag(tag: str, c: Caller = Depends(caller)) -> JSONResponse:
    return mg_json(tag_json(await _tag(c, tag)))


@router.put(PREFIX + "/{tag}")
async def update_tag(tag: str, request: Request, c: Caller = Depends(caller)) -> JSONResponse:
    await _tag(c, tag)
    form = await read_form(request)
    description = form.first("description", request.query_params.get("description", ""))

    def write(conn: Connection) -> None:
        tag_store.describe(conn, c.domain, tag, description)

    await c.sandbox.db.write(write)
    return mg_json({"message": "Tag updated"})


@router.delete(PREFIX + "/{tag}")
async def delete_tag(tag: str, c: Caller = Depends(caller)) -> JSONResponse:
    await _tag(c, tag)
    await c.sandbox.db.write(lambda conn: tag_store.delete(conn, c.domain, tag))
    return mg_json({"message": "Tag deleted"})


def _named(request: Request) -> str:
    tag = request.query_params.get("tag", "")
    if not tag:
        raise bad_request("'tag' parameter is missing")
    return tag


@router.get("/v3/{domain:mgdomain}/tag")
async def get_tag_by_query(request: Request, c: Caller = Depends(caller)) -> JSONResponse:
    return await get_tag(_named(request), c)


@router.put("/v3/{domain:mgdomain}/tag")
async def update_tag_by_query(request: Request, c: Caller = Depends(caller)) -> JSONResponse:
    return await update_tag(_named(request), request, c)


@router.delete("/v3/{domain:mgdomain}/tag")
async def delete_tag_by_query(request: Request, c: Caller = Depends(caller)) -> JSONResponse:
    return await delete_tag(_named(request), c)


@router.get(PREFIX + "/{tag}/stats")
async def tag_stats(tag: str, request: Request, c: Caller = Depends(caller)) -> JSONResponse:
    found = await _tag(c, tag)
    period = period_of(request)
    stats = await c.sandbox.db.read(read_stats(c.domain, period, tag))
    return mg_json(stats_json(period, stats, tag=found.tag, description=found.description))
