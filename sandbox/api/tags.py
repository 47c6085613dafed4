"""Tags: list, set on messages, rename, delete (spec §6)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from mailsandbox import tagging
from mailsandbox.api.deps import (
    BodyError,
    GoJSONResponse,
    bad_request,
    get_sandbox,
    json_body,
    ok,
    string_field,
    string_list,
)
from mailsandbox.api.scoping import visible_inboxes
from mailsandbox.api.totals import totals
from mailsandbox.logins import Visible
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import messages as store
from mailsandbox.storage.sql import Connection

router = APIRouter(prefix="/api/v1/tags", tags=["tags"])


@router.get("")
async def list_tags(
    sandbox: Sandbox = Depends(get_sandbox), visible: Visible = Depends(visible_inboxes)
) -> Response:
    return GoJSONResponse((await totals(sandbox, visible)).tags)


@router.put("")
async def set_tags(
    request: Request,
    sandbox: Sandbox = Depends(get_sandbox),
    visible: Visible = Depends(visible_inboxes),
) -> Response:
    """``{"Tags": [...], "IDs": [...]}``: replace the tags of those messages."""
    try:
        body = await json_body(request)
        tags, ids = string_list(body, "Tags"), string_list(body, "IDs")
    except BodyError as exc:
        return bad_request(str(exc))
    if ids:
        await sandbox.mailbox.set_tags(ids, tagging.clean_tags(tags), visible)
    return ok()


async def rename_everywhere(sandbox: Sandbox, tag: str, name: str) -> str:
    """Rename ``tag`` to ``name`` on every message: "" when done (or nothing to do), else why
    not, in Mailpit's words. The API and the UI's tag sidebar both rename through this."""
    new = tagging.clean_tag(name)
    if not new:
        return f"invalid tag name: {name}"
    if new == tag:
        return ""

    def check(conn: Connection) -> str:
        if not store.tag_exists(conn, tag):
            return f"tag not found: {tag}"
        if new.lower() != tag.lower() and store.tag_exists(conn, new):
            return f"tag already exists: {new}"
        return ""

    problem = await sandbox.db.read(check)
    if not problem:
        await sandbox.mailbox.rename_tag(tag, new)
    return problem


async def delete_everywhere(sandbox: Sandbox, tag: str) -> str:
    """Remove ``tag`` from every message (no message is deleted): "" or why not."""
    if not await sandbox.db.read(lambda conn: store.tag_exists(conn, tag)):
        return f"tag not found: {tag}"
    await sandbox.mailbox.delete_tag(tag)
    return ""


@router.put("/{tag:path}")
async def rename_tag(
    tag: str, request: Request, sandbox: Sandbox = Depends(get_sandbox)
) -> Response:
    """``{"Name": "new"}``: rename a tag on every message."""
    try:
        name = string_field(await json_body(request), "Name")
    except BodyError as exc:
        return bad_request(str(exc))
    problem = await rename_everywhere(sandbox, tag, name)
    return bad_request(problem) if problem else ok()


@router.delete("/{tag:path}")
async def delete_tag(tag: str, sandbox: Sandbox = Depends(get_sandbox)) -> Response:
    """Remove a tag from every message (no message is deleted)."""
    problem = await delete_everywhere(sandbox, tag)
    return bad_request(problem) if problem else ok()
