"""A full disk under the search index (issue 14): every message acknowledged meanwhile becomes
searchable once there is room again, without a restart; until then, search responses say
that they lack messages (``X-Search-Incomplete``) instead of waiting or pretending.

The index file lives on a real 4 MB tmpfs (mounted for the test; the suite runs as root in CI),
which a filler file then fills up: SQLite gets a real ENOSPC.
"""

from __future__ import annotations

import errno
import os
import smtplib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.sandbox.serve_process import start_serve
from tests.tools import require_program
from tests.waiting import eventually

ACKNOWLEDGED = 26  # the count


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs, unmounted afterwards."""
    mount = require_program("mount", "mount")
    where = tmp_path / "small"
    where.mkdir()
    result = subprocess.run(
        [mount, "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.fail(f"this test mounts a tmpfs and must run as root: {result.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run([require_program("umount", "mount"), "-l", str(where)], check=False)


def _fill(disk: Path) -> Path:
    """Write a file until the disk is full; returns it (delete it to make room)."""
    filler = disk / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def _send(port: int, n: int) -> None:
    """One message over SMTP; smtplib raises unless it is answered 250."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        message = f"Subject: full {n}\r\n\r\ndiskfull body\r\n"
        assert client.sendmail("app@example.com", ["bob@example.com"], message) == {}


def test_messages_acknowledged_while_the_disk_is_full_become_searchable(
    tmp_path: Path, small_disk: Path
) -> None:
    db = tmp_path / "sandbox.db"
    index = small_disk / "sandbox.db-search"
    (tmp_path / "sandbox.db-search").symlink_to(index)  # SQLite follows it (WAL included)
    server = start_serve(db)
    try:
        filler = _fill(small_disk)
        for n in range(ACKNOWLEDGED):
            _send(server.smtp_port, n)  # each answered 250: stored in the main file
        with httpx.Client(base_url=server.url, timeout=30) as api:
            listed = api.get("/api/v1/messages").json()
            assert listed["total"] == ACKNOWLEDGED

            def says_incomplete() -> str:
                found = api.get("/api/v1/search", params={"query": "diskfull"})
                assert found.status_code == 200
                return found.headers.get("X-Search-Incomplete", "")

            notice = eventually(says_incomplete, timeout=30)
            assert "not searchable yet" in notice and "full" in notice

            os.remove(filler)  # room again: no restart

            def all_found() -> bool:
                found = api.get("/api/v1/search", params={"query": "diskfull", "limit": 100})
                assert found.json()["messages_count"] == ACKNOWLEDGED
                assert "X-Search-Incomplete" not in found.headers
                return True

            eventually(all_found, timeout=30)
    finally:
        server.stop()
