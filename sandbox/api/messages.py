"""The mailbox as a whole: list, search, set read status, delete (by ids, by search, all)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response

from mailsandbox.api import schemas
from mailsandbox.api.deps import (
    BodyError,
    GoJSONResponse,
    bad_request,
    bool_field,
    get_sandbox,
    int_param,
    json_body,
    ok,
    search_headers,
    string_field,
    string_list,
)
from mailsandbox.api.mailhog import mailhog_ok
from mailsandbox.api.scoping import visible_inboxes
from mailsandbox.api.totals import totals
from mailsandbox.logins import Visible
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import messages as store
from mailsandbox.storage import search as finder

router = APIRouter(prefix="/api/v1", tags=["messages"])


@router.get("/messages")
async def list_messages(
    sandbox: Sandbox = Depends(get_sandbox),
    start: str | None = Query(None),
    limit: str | None = Query(None),
    inbox: str | None = Query(None, description="only this inbox (extension)"),
    visible: Visible = Depends(visible_inboxes),
) -> Response:
    """All messages, newest first. ``limit=0`` lists everything."""
    start_n, limit_n = int_param(start, 0), int_param(limit, 50)
    if limit_n == 0:
        start_n, limit_n = 0, -1
    mailbox = await totals(sandbox, visible)
    if inbox is not None:
        page = await sandbox.db.read(
            lambda conn: finder.search(
                conn, "", start=start_n, limit=limit_n, inbox=inbox, visible=visible
            )
        )
        matched, matched_unread, messages = page.total, page.unread, page.messages
    else:
        messages = await sandbox.db.read(
            lambda conn: store.list_summaries(conn, start=start_n, limit=limit_n, visible=visible)
        )
        matched, matched_unread = mailbox.total, mailbox.unread
    return GoJSONResponse(
        schemas.messages_summary(
            total=mailbox.total,
            unread=mailbox.unread,
            matched=matched,
            matched_unread=matched_unread,
            start=start_n,
            tags=mailbox.tags,
            page=messages,
        )
    )


@router.get("/search")
async def search_messages(
    sandbox: Sandbox = Depends(get_sandbox),
    query: str = Query(""),
    start: str | None = Query(None),
    limit: str | None = Query(None),
    tz: str | None = Query(None),
    inbox: str | None = Query(None, description="only this inbox (extension)"),
    visible: Visible = Depends(visible_inboxes),
) -> Response:
    """Messages matching ``query`` (Mailpit syntax plus ``inbox:NAME``), newest first."""
    start_n, limit_n = int_param(start, 0), int_param(limit, 50)
    if not query.strip():
        return bad_request("Error: no search query")
    try:
        page = await sandbox.db.read(
            lambda conn: finder.search(
                conn,
                query,
                start=start_n,
                limit=limit_n,
                tz=tz,
                inbox=inbox,
                visible=visible,
                beside=sandbox.db.read_beside,
            )
        )
    except finder.SearchError as exc:
        return bad_request(str(exc))
    mailbox = await totals(sandbox, visible)
    return GoJSONResponse(
        schemas.messages_summary(
            total=mailbox.total,
            unread=mailbox.unread,
            matched=page.total,
            matched_unread=page.unread,
            start=start_n,
            tags=mailbox.tags,
            page=page.messages,
        ),
        headers=search_headers(sandbox),
    )


@router.delete("/search")
async def delete_by_search(
    sandbox: Sandbox = Depends(get_sandbox),
    query: str = Query(""),
    tz: str | None = Query(None),
    visible: Visible = Depends(visible_inboxes),
) -> Response:
    if not query.strip():
        return bad_request("Error: no search query")
    try:
        ids = await sandbox.db.read(
            lambda conn: finder.matching_ids(conn, query, tz, visible=visible)
        )
    except finder.SearchError as exc:
        return bad_request(str(exc))
    await sandbox.mailbox.delete(ids, visible)
    response = ok()
    response.headers.update(search_headers(sandbox))
    return response


@router.put("/messages")
async def set_read_status(
    request: Request,
    sandbox: Sandbox = Depends(get_sandbox),
    tz: str | None = Query(None),
    visible: Visible = Depends(visible_inboxes),
) -> Response:
    """``{"Read": bool, "IDs": [...], "Search": "..."}``; no IDs and no Search = every message."""
    try:
        body = await json_body(request)
        read, ids = bool_field(body, "Read"), string_list(body, "IDs")
        query = string_field(body, "Search")
    except BodyError as exc:
        return bad_request(str(exc))
    if query and not query.strip():  # a blank search is no search, not "every message"
        return bad_request("Error: no search query")
    if ids and query.strip():
        return bad_request("You may specify either IDs or a search query, not both")
    if query.strip():
        try:
            ids = await sandbox.db.read(
                lambda conn: finder.matching_ids(conn, query, tz, visible=visible)
            )
        except finder.SearchError as exc:
            return bad_request(str(exc))
        await sandbox.mailbox.set_read(ids, read, visible)
    elif ids:
        await sandbox.mailbox.set_read(ids, read, visible)
    else:
        await sandbox.mailbox.set_read_all(read, visible)
    return ok()


def ids_to_delete(body: dict[str, Any] | None) -> list[str]:
    """The ``IDs`` of a DELETE body; ``[]`` means every message.

    Only no body, ``{}`` or ``{"IDs": []}`` mean "all" (what Mailpit's clients send). Mailpit
    also deletes everything for a body it cannot decode; here anything but an object whose
    only field is ``IDs``, a list of strings, is a :class:`BodyError` (see docs/api.md).
    """
    if body is None:
        return []
    unknown = sorted(set(body) - {"ids"})
    if unknown:
        raise BodyError(f"json: unknown field {unknown[0]!r}")
    if "ids" in body and not isinstance(body["ids"], list):
        raise BodyError("json: cannot unmarshal IDs into []string")
    return string_list(body, "IDs")


@router.delete("/messages")
async def delete_messages(
    request: Request,
    sandbox: Sandbox = Depends(get_sandbox),
    visible: Visible = Depends(visible_inboxes),
) -> Response:
    """``{"IDs": [...]}`` deletes those; no body, ``{}`` or ``{"IDs": []}`` delete everything
    (every message the login may see).

    Any other body (malformed JSON, ``null``, a list, ``IDs`` of the wrong type, bad UTF-8,
    too large) is a 400 that deletes nothing. Answers ``ok`` as Mailpit does, except to a
    client that sends no ``Accept`` header at all (the npm ``mailhog`` client, which would fail
    to parse ``ok`` as JSON): MailHog's empty body.
    """
    try:
        ids = ids_to_delete(await json_body(request, optional=True))
    except BodyError as exc:
        return bad_request(str(exc))
    if ids:
        await sandbox.mailbox.delete(ids, visible)
    else:
        await sandbox.mailbox.delete_all(visible)
    if "accept" not in request.headers:  # Node's http (the npm mailhog client) sends none
        return mailhog_ok()
    return ok()
