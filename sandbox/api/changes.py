"""Changes to stored messages (read flags, deletes, tags), each announced on the bus after commit.

Bus payloads are Mailpit's WebSocket shapes: ``update`` ``{"ID", "Read"}`` or ``{"ID", "Tags"}``,
``delete`` ``{"ID"}``, ``truncate``/``prune`` ``None``; ``stats`` (``None``) says only the counts
changed (e.g. "mark all read"); events about one message carry its inbox. The web UI may call
these too, so both doors behave the same. Given ``visible`` (a scoped login's inboxes), a change
touches the messages of those inboxes only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from mailsandbox import tagging
from mailsandbox.bus import DELETE, PRUNE, TRUNCATE, UPDATE, BusEvent
from mailsandbox.logins import Visible
from mailsandbox.runtime import Sandbox
from mailsandbox.storage import messages as store

STATS = "stats"
PRUNE_THRESHOLD = 200  # Mailpit: more deletes than this are announced as one ``prune``


def _visible_ids(conn: sqlite3.Connection, ids: Sequence[str], visible: Visible) -> list[str]:
    if visible is None:
        return list(ids)
    return [i for i, inbox in store.inboxes_of(conn, ids).items() if inbox in visible]


def _announce_updates(sandbox: Sandbox, updates: Sequence[tuple[dict[str, object], str]]) -> None:
    """``update`` per changed message (``(payload, inbox)``), or one ``prune`` ("reload")
    rather than a flood."""
    if len(updates) > PRUNE_THRESHOLD:
        sandbox.bus.publish(BusEvent(PRUNE, None))
        return
    for payload, inbox in updates:
        sandbox.bus.publish(BusEvent(UPDATE, payload, inbox))


async def set_read(
    sandbox: Sandbox, message_ids: Sequence[str], read: bool, visible: Visible = None
) -> list[str]:
    """Set the read flag of the listed messages (of the ``visible`` inboxes); ``update`` per
    message that changed."""

    def write(conn: sqlite3.Connection) -> dict[str, str]:
        changed = store.set_read(conn, _visible_ids(conn, message_ids, visible), read)
        return store.inboxes_of(conn, changed)

    changed = await sandbox.db.write(write)
    _announce_updates(sandbox, [({"ID": i, "Read": read}, inbox) for i, inbox in changed.items()])
    return list(changed)


async def set_read_all(sandbox: Sandbox, read: bool, visible: Visible = None) -> None:
    """Set the read flag of every message (of the ``visible`` inboxes); only the counts are
    announced, as Mailpit does."""
    if await sandbox.db.write(lambda conn: store.set_read_all(conn, read, visible)):
        sandbox.bus.publish(BusEvent(STATS, None))


async def delete(
    sandbox: Sandbox, message_ids: Sequence[str], visible: Visible = None
) -> list[str]:
    """Delete the listed messages (of the ``visible`` inboxes): ``delete`` each, or one
    ``prune`` for a big batch."""

    def write(conn: sqlite3.Connection) -> dict[str, str]:
        found = store.inboxes_of(conn, _visible_ids(conn, message_ids, visible))
        store.delete_by_ids(conn, list(found))
        return found

    deleted = await sandbox.db.write(write)
    sandbox.messages_deleted += len(deleted)
    if len(deleted) > PRUNE_THRESHOLD:
        sandbox.bus.publish(BusEvent(PRUNE, None))
    else:
        for message_id, inbox in deleted.items():
            sandbox.bus.publish(BusEvent(DELETE, {"ID": message_id}, inbox))
    return list(deleted)


async def delete_all(sandbox: Sandbox, visible: Visible = None) -> None:
    """Delete every message (of the ``visible`` inboxes, for a scoped login)."""
    if visible is not None:
        ids = await sandbox.db.read(lambda conn: store.ids_in(conn, visible))
        await delete(sandbox, ids, visible)
        return
    await sandbox.db.write(store.delete_all)
    sandbox.messages_deleted = 0  # Mailpit resets its deleted counter on delete-all
    sandbox.bus.publish(BusEvent(TRUNCATE, None))


async def set_tags(
    sandbox: Sandbox, message_ids: Sequence[str], tags: list[str], visible: Visible = None
) -> list[str]:
    """Replace the tags of the listed messages (of the ``visible`` inboxes); ``update {ID,
    Tags}`` per message."""

    def write(conn: sqlite3.Connection) -> dict[str, str]:
        found = store.inboxes_of(conn, _visible_ids(conn, message_ids, visible))
        store.set_tags(conn, list(found), tags)
        return found

    found = await sandbox.db.write(write)
    for message_id, inbox in found.items():
        sandbox.bus.publish(BusEvent(UPDATE, {"ID": message_id, "Tags": list(tags)}, inbox))
    return list(found)


def _edit_tags(
    conn: sqlite3.Connection,
    message_ids: Sequence[str],
    add: Sequence[str],
    remove: set[str],
    visible: Visible,
) -> dict[str, tuple[list[str], str]]:
    found = store.seqs_for_ids(conn, _visible_ids(conn, message_ids, visible))
    inboxes = store.inboxes_of(conn, list(found))
    current = store.tags_for(conn, found.values())
    changed: dict[str, tuple[list[str], str]] = {}
    for message_id, seq in found.items():
        kept = [t for t in current[seq] if t.lower() not in remove]
        tags = tagging.clean_tags([*kept, *add])
        if tags != current[seq]:
            store.set_tags(conn, [message_id], tags)
            changed[message_id] = (tags, inboxes[message_id])
    return changed


async def edit_tags(
    sandbox: Sandbox,
    message_ids: Sequence[str],
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
    visible: Visible = None,
) -> dict[str, list[str]]:
    """Add and/or remove tags on the listed messages (of the ``visible`` inboxes), keeping
    their other tags (the UI's per-message and bulk tagging); ``update {ID, Tags}`` per message
    that changed, or one ``prune`` for a big batch. Returns ``{id: new tags}`` of the changed
    messages."""
    dropped = {t.lower() for t in remove}
    changed = await sandbox.db.write(
        lambda conn: _edit_tags(conn, list(message_ids), list(add), dropped, visible)
    )
    _announce_updates(
        sandbox, [({"ID": i, "Tags": tags}, inbox) for i, (tags, inbox) in changed.items()]
    )
    return {message_id: tags for message_id, (tags, _inbox) in changed.items()}


async def rename_tag(sandbox: Sandbox, old: str, new: str) -> None:
    await sandbox.db.write(lambda conn: store.rename_tag(conn, old, new))
    sandbox.bus.publish(BusEvent(PRUNE, None))


async def delete_tag(sandbox: Sandbox, tag: str) -> None:
    await sandbox.db.write(lambda conn: store.delete_tag(conn, tag))
    sandbox.bus.publish(BusEvent(PRUNE, None))
