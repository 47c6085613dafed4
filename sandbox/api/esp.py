"""``GET /api/v1/message/{ID}/esp``: what the SendGrid or Mailgun API was told about a message
(categories/tags, custom args/user variables, batch id, unsubscribe group, options...).

An extension: Mailpit's message JSON keeps its exact key set (tools compare it with
``toEqual``), so this lives on a route of its own. ``{ID}`` may be ``latest`` (optionally
``?query=``), as on every message route.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from mailsandbox.api.deps import GoJSONResponse
from mailsandbox.api.lookup import Found, found_message
from mailsandbox.esp import esp_json

router = APIRouter(tags=["message"])


@router.get("/api/v1/message/{message_id}/esp")
async def message_esp(found: Found | Response = Depends(found_message)) -> Response:
    """The ESP data of a message (``Provider`` is empty for mail that came in over SMTP)."""
    if not isinstance(found, Found):
        return found
    return GoJSONResponse(esp_json(found.summary))
