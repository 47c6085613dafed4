"""Changes to stored messages (read flags, deletes, tags), each announced on the bus after commit.

Bus payloads are Mailpit's WebSocket shapes: ``update`` ``{"ID", "Read"}`` or ``{"ID", "Tags"}``,
``delete`` ``{"ID"}``, ``truncate``/``prune`` ``None``; ``stats`` (``None``) says only the counts
changed (e.g. "mark all read"). The web UI may call these too, so both doors behave the same.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from mailsandbox import tagging
from mailsandbox.bus import DELETE, PRUNE, TRUNCATE, UPDATE, BusEvent
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import messages as store

STATS = "stats"
PRUNE_THRESHOLD = 200  # Mailpit: more deletes than this are announced as one ``prune``


def _announce_updates(sandbox: Sandbox, payloads: Sequence[dict[str, object]]) -> None:
    """``update`` per changed message, or one ``prune`` ("reload") rather than a flood."""
    if len(payloads) > PRUNE_THRESHOLD:
        sandbox.bus.publish(BusEvent(PRUNE, None))
        return
    for payload in payloads:
        sandbox.bus.publish(BusEvent(UPDATE, payload))


async def set_read(sandbox: Sandbox, message_ids: Sequence[str], read: bool) -> list[str]:
    """Set the read flag of the listed messages; ``update`` per message that changed."""
    changed = await sandbox.db.write(lambda conn: store.set_read(conn, list(message_ids), read))
    _announce_updates(sandbox, [{"ID": message_id, "Read": read} for message_id in changed])
    return changed


async def set_read_all(sandbox: Sandbox, read: bool) -> None:
    """Set the read flag of every message; only the counts are announced, as Mailpit does."""
    if await sandbox.db.write(lambda conn: store.set_read_all(conn, read)):
        sandbox.bus.publish(BusEvent(STATS, None))


async def delete(sandbox: Sandbox, message_ids: Sequence[str]) -> list[str]:
    """Delete the listed messages: ``delete`` each, or one ``prune`` for a big batch."""
    deleted = await sandbox.db.write(lambda conn: store.delete_by_ids(conn, list(message_ids)))
    sandbox.messages_deleted += len(deleted)
    if len(deleted) > PRUNE_THRESHOLD:
        sandbox.bus.publish(BusEvent(PRUNE, None))
    else:
        for message_id in deleted:
            sandbox.bus.publish(BusEvent(DELETE, {"ID": message_id}))
    return deleted


async def delete_all(sandbox: Sandbox) -> None:
    await sandbox.db.write(store.delete_all)
    sandbox.messages_deleted = 0  # Mailpit resets its deleted counter on delete-all
    sandbox.bus.publish(BusEvent(TRUNCATE, None))


async def set_tags(sandbox: Sandbox, message_ids: Sequence[str], tags: list[str]) -> list[str]:
    """Replace the tags of the listed messages; ``update {ID, Tags}`` per message."""
    found = await sandbox.db.write(lambda conn: store.set_tags(conn, list(message_ids), tags))
    for message_id in found:
        sandbox.bus.publish(BusEvent(UPDATE, {"ID": message_id, "Tags": list(tags)}))
    return found


def _edit_tags(
    conn: sqlite3.Connection, message_ids: Sequence[str], add: Sequence[str], remove: set[str]
) -> dict[str, list[str]]:
    found = store.seqs_for_ids(conn, message_ids)
    current = store.tags_for(conn, found.values())
    changed: dict[str, list[str]] = {}
    for message_id, seq in found.items():
        kept = [t for t in current[seq] if t.lower() not in remove]
        tags = tagging.clean_tags([*kept, *add])
        if tags != current[seq]:
            store.set_tags(conn, [message_id], tags)
            changed[message_id] = tags
    return changed


async def edit_tags(
    sandbox: Sandbox,
    message_ids: Sequence[str],
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
) -> dict[str, list[str]]:
    """Add and/or remove tags on the listed messages, keeping their other tags (the UI's
    per-message and bulk tagging); ``update {ID, Tags}`` per message that changed, or one
    ``prune`` for a big batch. Returns ``{id: new tags}`` of the changed messages."""
    dropped = {t.lower() for t in remove}
    changed = await sandbox.db.write(
        lambda conn: _edit_tags(conn, list(message_ids), list(add), dropped)
    )
    _announce_updates(sandbox, [{"ID": i, "Tags": tags} for i, tags in changed.items()])
    return changed


async def rename_tag(sandbox: Sandbox, old: str, new: str) -> None:
    await sandbox.db.write(lambda conn: store.rename_tag(conn, old, new))
    sandbox.bus.publish(BusEvent(PRUNE, None))


async def delete_tag(sandbox: Sandbox, tag: str) -> None:
    await sandbox.db.write(lambda conn: store.delete_tag(conn, tag))
    sandbox.bus.publish(BusEvent(PRUNE, None))
