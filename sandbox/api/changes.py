"""Changes to stored messages (read flags, deletes, tags), each announced on the bus after commit.

Bus payloads are Mailpit's WebSocket shapes: ``update`` ``{"ID", "Read"}`` or ``{"ID", "Tags"}``,
``delete`` ``{"ID"}``, ``truncate``/``prune`` ``None``; ``stats`` (``None``) says only the counts
changed (e.g. "mark all read"). The web UI may call these too, so both doors behave the same.
"""

from __future__ import annotations

from collections.abc import Sequence

from mailsandbox.bus import DELETE, PRUNE, TRUNCATE, UPDATE, BusEvent
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import messages as store

STATS = "stats"
PRUNE_THRESHOLD = 200  # Mailpit: more deletes than this are announced as one ``prune``


async def set_read(sandbox: Sandbox, message_ids: Sequence[str], read: bool) -> list[str]:
    """Set the read flag of the listed messages; ``update`` per message that changed."""
    changed = await sandbox.db.write(lambda conn: store.set_read(conn, list(message_ids), read))
    if len(changed) > PRUNE_THRESHOLD:  # one "reload" rather than a flood of updates
        sandbox.bus.publish(BusEvent(PRUNE, None))
        return changed
    for message_id in changed:
        sandbox.bus.publish(BusEvent(UPDATE, {"ID": message_id, "Read": read}))
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


async def rename_tag(sandbox: Sandbox, old: str, new: str) -> None:
    await sandbox.db.write(lambda conn: store.rename_tag(conn, old, new))
    sandbox.bus.publish(BusEvent(PRUNE, None))


async def delete_tag(sandbox: Sandbox, tag: str) -> None:
    await sandbox.db.write(lambda conn: store.delete_tag(conn, tag))
    sandbox.bus.publish(BusEvent(PRUNE, None))
