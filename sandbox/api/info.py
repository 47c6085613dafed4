"""Application information, web UI configuration and chaos settings (spec §2.4, §2.5, §7)."""

from __future__ import annotations

import resource
import time
from pathlib import Path

from fastapi import APIRouter, Depends, Response

from mailsandbox import __version__
from mailsandbox.api import schemas
from mailsandbox.api.deps import GoJSONResponse, bad_request, get_sandbox
from mailsandbox.api.scoping import visible_inboxes
from mailsandbox.logins import Visible
from mailsandbox.relay import relay_of
from mailsandbox.relay.config import web_ui as relay_web_ui
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import messages as store

router = APIRouter(prefix="/api/v1", tags=["info"])


def _rss_bytes() -> int:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0

    return pages * resource.getpagesize()


@router.get("/info")
async def info(
    sandbox: Sandbox = Depends(get_sandbox), visible: Visible = Depends(visible_inboxes)
) -> Response:
    """Mailpit's AppInformation. For a scoped login the counts are its inboxes', and what
    speaks of every inbox (the database's size, the SMTP counters) is 0."""
    everything = visible is None
    (total, unread), tag_counts, size = await sandbox.db.read(
        lambda conn: (
            store.counts(conn, visible),
            store.tag_counts(conn, visible),
            sandbox.db.backend.size(conn) if everything else 0,
        )
    )
    stats = sandbox.smtp_stats
    return GoJSONResponse(
        {
            "Version": __version__,
            "LatestVersion": "disabled",
            "Database": str(sandbox.db.backend),
            "DatabaseSize": size,
            "Messages": total,
            "Unread": unread,
            "Tags": tag_counts,
            "RuntimeStats": {
                "Uptime": int(time.time() - sandbox.started_at),
                "Memory": _rss_bytes(),
                "MessagesDeleted": sandbox.mailbox.deleted if everything else 0,
                "SMTPAccepted": stats.accepted if everything else 0,
                "SMTPAcceptedSize": stats.accepted_bytes if everything else 0,
                "SMTPRejected": stats.rejected if everything else 0,
                "SMTPIgnored": stats.ignored if everything else 0,
            },
        }
    )


@router.get("/webui")
async def webui(sandbox: Sandbox = Depends(get_sandbox)) -> Response:
    relay = relay_web_ui(relay_of(sandbox).config)
    spamassassin = sandbox.settings.spamassassin_address is not None
    return GoJSONResponse(schemas.web_ui_configuration(relay, spamassassin=spamassassin))


@router.get("/chaos")
async def get_chaos() -> Response:
    return bad_request("Chaos is not enabled")


@router.put("/chaos")
async def set_chaos() -> Response:
    return bad_request("Chaos is not enabled")
