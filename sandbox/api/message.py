"""One message: its JSON, headers, raw source, parts and part thumbnails."""

from __future__ import annotations

import base64
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response

from mailsandbox import mime
from mailsandbox.api import rendering, schemas
from mailsandbox.api.deps import GoJSONResponse, bad_request, get_sandbox, not_found
from mailsandbox.api.lookup import Found, find, found_message, opened_message
from mailsandbox.runtime import Sandbox

router = APIRouter(prefix="/api/v1/message", tags=["message"])

# Any valid 180x120 JPEG will do for thumbnails (tooling checks the type); a blank one it is.
BLANK_THUMBNAIL = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/4gHYSUNDX1BST0ZJTEUAAQEAAAHIAAAAAAQwAABtbnRyUkdCIFhZWiAH4AABAAEAAAAAAABhY3NwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQAA9tYAAQAAAADTLQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAlkZXNjAAAA8AAAACRyWFlaAAABFAAAABRnWFlaAAABKAAAABRiWFlaAAABPAAAABR3dHB0AAABUAAAABRyVFJDAAABZAAAAChnVFJDAAABZAAAAChiVFJDAAABZAAAAChjcHJ0AAABjAAAADxtbHVjAAAAAAAAAAEAAAAMZW5VUwAAAAgAAAAcAHMAUgBHAEJYWVogAAAAAAAAb6IAADj1AAADkFhZWiAAAAAAAABimQAAt4UAABjaWFlaIAAAAAAAACSgAAAPhAAAts9YWVogAAAAAAAA9tYAAQAAAADTLXBhcmEAAAAAAAQAAAACZmYAAPKnAAANWQAAE9AAAApbAAAAAAAAAABtbHVjAAAAAAAAAAEAAAAMZW5VUwAAACAAAAAcAEcAbwBvAGcAbABlACAASQBuAGMALgAgADIAMAAxADb/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAB4ALQDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAf/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/8QAFAEBAAAAAAAAAAAAAAAAAAAAAP/EABQRAQAAAAAAAAAAAAAAAAAAAAD/2gAMAwEAAhEDEQA/AKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAD/2Q=="
)
# Types a browser would run as a document: never rendered inline from our origin.
ACTIVE_TYPES = {
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "text/xml",
    "application/xml",
    "text/javascript",
    "application/javascript",
}


@router.get("/{message_id}")
async def get_message(found: Found | Response = Depends(opened_message)) -> Response:
    """The message (Mailpit's Message object). Marks it read."""
    if not isinstance(found, Found):
        return found
    parsed = found.parse()
    unsubscribe = rendering.list_unsubscribe(rendering.headers(found.raw))
    return GoJSONResponse(schemas.message(found.summary, parsed, unsubscribe))


@router.get("/{message_id}/headers")
async def get_headers(found: Found | Response = Depends(found_message)) -> Response:
    if not isinstance(found, Found):
        return found
    return GoJSONResponse(rendering.headers(found.raw))


@router.get("/{message_id}/raw")
async def get_raw(
    found: Found | Response = Depends(found_message), dl: str = Query("")
) -> Response:
    if not isinstance(found, Found):
        return found
    response = Response(
        found.raw, media_type="text/plain; charset=utf-8", headers=rendering.RAW_HEADERS
    )
    if dl in ("1", "true"):
        filename = f"{found.summary.id}.eml"
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@router.get("/{message_id}/part/{part_id}")
async def get_part(part_id: str, found: Found | Response = Depends(found_message)) -> Response:
    """The decoded bytes of a part, with its own Content-Type."""
    if not isinstance(found, Found):
        return found
    part = mime.find_part(mime.load(found.raw), part_id)
    if part is None:
        return not_found("Part not found")
    content_type = part.get_content_type()
    known = {p.part_id: p for p in found.parse().parts}.get(part_id)
    name = (known.filename if known else "") or part_id
    attached = known is None or known.disposition == "attachment"
    disposition = "attachment" if attached or content_type in ACTIVE_TYPES else "inline"
    return Response(
        mime.decode_payload(part),
        media_type=content_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{quote(str(name))}"',
            **rendering.RAW_HEADERS,
        },
    )


@router.get("/{message_id}/part/{part_id}/thumb")
async def get_thumbnail(
    message_id: str, part_id: str, request: Request, sandbox: Sandbox = Depends(get_sandbox)
) -> Response:
    """A 180x120 JPEG for an attachment (always blank here). Errors are 400, as in Mailpit."""
    found = await find(request, sandbox, message_id, allow_latest=False)
    if not isinstance(found, Found):
        return bad_request("Message not found")
    if mime.find_part(mime.load(found.raw), part_id) is None:
        return bad_request("attachment not found")
    return Response(BLANK_THUMBNAIL, media_type="image/jpeg")
