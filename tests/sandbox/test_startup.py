"""Start-up failures a user can cause: one line on stderr, exit code 2, never a traceback.

Every case runs the real ``python -m mailsandbox serve`` and checks what a person sees:
stderr is exactly one line naming the problem, nothing was announced as listening, and
nothing was written where it should not be. Damaged database files: the user's database is
refused and left untouched; the derived search index is moved aside and rebuilt.
"""

from __future__ import annotations

import os
import smtplib
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mailsandbox.runner import start_in_thread
from mailsandbox.startup import StartupError
from tests.conftest import make_settings
from tests.sandbox.serve_process import free_port, run_serve, start_serve, unwritable_for_serve

EML = b"From: ann@example.com\r\nTo: bob@example.com\r\nSubject: %s\r\n\r\nbody %s\r\n"


def assert_one_line_error(result: subprocess.CompletedProcess[str], *expected: str) -> str:
    """Exit 2, nothing on stdout (no banner), stderr one ``mailsandbox serve:`` line."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stdout == "", "nothing may be announced before both ports are bound"
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(("mailsandbox serve: ", "mailsandbox: ")), lines[0]
    for text in expected:
        assert text in lines[0], (text, lines[0])
    return lines[0]


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port another program is listening on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield int(other.getsockname()[1])


def loopback(port: int) -> str:
    return f"127.0.0.1:{port}"


def test_http_port_in_use(tmp_path: Path, taken_port: int) -> None:
    db = tmp_path / "mail.db"
    result = run_serve(
        "--db", str(db), "--http", loopback(taken_port), "--smtp", loopback(free_port())
    )
    assert_one_line_error(result, f"HTTP address 127.0.0.1:{taken_port}", "in use", "--http")
    assert not db.exists()


def test_smtp_port_in_use(tmp_path: Path, taken_port: int) -> None:
    db = tmp_path / "mail.db"
    result = run_serve(
        "--db", str(db), "--smtp", loopback(taken_port), "--http", loopback(free_port())
    )
    assert_one_line_error(result, f"SMTP address 127.0.0.1:{taken_port}", "in use", "--smtp")
    assert not db.exists(), "the ports are bound before the database is created"


def test_smtps_port_in_use(tmp_path: Path, taken_port: int) -> None:
    result = run_serve(
        "--db", str(tmp_path / "mail.db"), "--smtp", loopback(free_port()),
        "--http", loopback(free_port()), "--smtps", loopback(taken_port),
        "--smtp-tls", "self-signed",
    )  # fmt: skip
    assert_one_line_error(result, f"SMTPS address 127.0.0.1:{taken_port}", "--smtps")


def test_unresolvable_host(tmp_path: Path) -> None:
    result = run_serve("--db", str(tmp_path / "mail.db"), "--http", "no-such-host.invalid:8025")
    assert_one_line_error(result, "no-such-host.invalid", "--http")


def serve_db(db: str | Path) -> subprocess.CompletedProcess[str]:
    return run_serve("--db", str(db), "--smtp", "127.0.0.1:0", "--http", "127.0.0.1:0")


def test_db_is_a_directory(tmp_path: Path) -> None:
    assert_one_line_error(serve_db(tmp_path), f"--db {tmp_path} is a directory")


def test_db_under_proc() -> None:
    line = assert_one_line_error(serve_db("/proc/mailsandbox.db"), "cannot write to /proc")
    assert "--db" in line


def test_db_in_a_missing_directory(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such"
    assert_one_line_error(serve_db(missing / "mail.db"), "does not exist", f"mkdir -p {missing}")
    assert not missing.exists(), "a typo in --db does not create a directory tree"


def test_db_under_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    assert_one_line_error(serve_db(tmp_path / "file" / "mail.db"), "not a directory")


def test_db_directory_not_writable(tmp_path: Path) -> None:
    """A directory of another user, e.g. a Docker bind mount created by root while the image
    runs as uid 1000: the error says whose it is and what to run."""
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    prefix = unwritable_for_serve(data)
    expected_owner, expected_uid = data.stat().st_uid, os.geteuid()
    result = run_serve(
        "--db", str(data / "mail.db"), "--smtp", "127.0.0.1:0", "--http", "127.0.0.1:0",
        prefix=prefix,
    )  # fmt: skip
    line = assert_one_line_error(result, f"cannot write to {data}")
    if expected_owner != expected_uid:
        assert f"belongs to uid {expected_owner}" in line
        assert f"chown {expected_uid} {data}" in line
        assert "named volume" in line
    assert list(data.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (("--max-messages", "many"), {}, "--max-messages"),
        (("--http", "localhost"), {}, "--http"),
        (("--smtp", "127.0.0.1:99999"), {}, "--smtp"),
        (("--log-level", "loud"), {}, "--log-level"),
        (("--max-age", "soon"), {}, "soon"),
        (("--smtp-auth", "nocolon"), {}, "USER:PASS"),
        ((), {"MAILSANDBOX_MAX_MESSAGES": "lots"}, "MAILSANDBOX_MAX_MESSAGES"),
        (("--no-such-flag",), {}, "--no-such-flag"),
    ],
)
def test_bad_flag_values(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], expected: str
) -> None:
    db = tmp_path / "mail.db"
    assert_one_line_error(run_serve("--db", str(db), *args, env=env), expected)
    assert not db.exists()


def test_damaged_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    db = tmp_path / "mail.db"
    garbage = b"this is not SQLite " * 512
    db.write_bytes(garbage)
    assert_one_line_error(serve_db(db), str(db), "not a usable SQLite database", "move it aside")
    assert db.read_bytes() == garbage
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mail.db"], "nothing moved or added"


def test_damaged_search_index_is_moved_aside_and_rebuilt(tmp_path: Path) -> None:
    db = tmp_path / "mail.db"
    first = start_serve(db)
    try:
        with smtplib.SMTP("127.0.0.1", first.smtp_port, timeout=10) as client:
            for word in (b"apricot", b"blueberry"):
                client.sendmail("ann@example.com", ["bob@example.com"], EML % (word, word))
    finally:
        first.stop()  # a crash, even: the index is only derived data
    index = tmp_path / "mail.db-search"
    garbage = b"\x00garbage\xff" * 1000
    index.write_bytes(garbage)
    for leftover in ("-wal", "-shm"):
        index.with_name(index.name + leftover).unlink(missing_ok=True)

    second = start_serve(db)
    try:
        found = httpx.get(f"{second.url}/api/v1/search", params={"query": "blueberry"}).json()
        assert [m["Subject"] for m in found["messages"]] == ["blueberry"]
        assert httpx.get(f"{second.url}/api/v1/messages").json()["total"] == 2
    finally:
        second.stop()
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("mail.db-search.corrupt-")]
    assert [p.read_bytes() for p in aside] == [garbage], "the bad file is kept, aside"
    warnings = [line for line in second.stderr().splitlines() if "damaged" in line]
    assert len(warnings) == 1, second.stderr()
    assert str(index) in warnings[0] and str(aside[0]) in warnings[0]
    assert "Traceback" not in second.stderr()


@pytest.mark.parametrize("service", ["smtp", "http"])
def test_in_process_start_raises_the_same_error(
    tmp_path: Path, taken_port: int, service: str
) -> None:
    """``start_in_thread`` (the pytest plugin's way) raises the StartupError itself."""
    settings = make_settings(tmp_path, **{service: loopback(taken_port)})
    with pytest.raises(StartupError, match=f"address 127.0.0.1:{taken_port} is already in use"):
        start_in_thread(settings)
