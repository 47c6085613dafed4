"""Import and export: mbox, Maildir and zips, through the CLI and the API, bytes for bytes."""

from __future__ import annotations

import importlib.util
import io
import mailbox
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from mailsandbox.runner import RunningSandbox

Factory = Callable[..., RunningSandbox]


def corpus() -> list[Path]:
    """CPython's email test corpus (``test/test_email/data/msg_*.txt``), from the standard
    library's own test package."""
    spec = importlib.util.find_spec("test.test_email")
    if spec is None or spec.origin is None:
        pytest.fail(
            "CPython's test package is required (Debian: apt-get install"
            f" libpython3.{sys.version_info.minor}-testsuite)"
        )
    files = sorted((Path(spec.origin).parent / "data").glob("msg_*.txt"))
    assert len(files) > 40
    return files


def cli(running: RunningSandbox, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILSANDBOX_")}
    env["MAILSANDBOX_URL"] = running.url
    return subprocess.run([sys.executable, "-m", "mailsandbox", *args],
                          capture_output=True, timeout=300, env=env)  # fmt: skip


def stored_raws(running: RunningSandbox) -> list[bytes]:
    """Every stored message's bytes, oldest first."""
    api = httpx.Client(base_url=running.url, timeout=30)
    listing = api.get("/api/v1/messages", params={"limit": 0}).json()["messages"]
    return [api.get(f"/api/v1/message/{m['ID']}/raw").content for m in reversed(listing)]


def test_an_mbox_of_the_cpython_email_corpus_round_trips(
    tmp_path: Path, sandbox_factory: Factory
) -> None:
    files = corpus()
    source = tmp_path / "corpus.mbox"
    box = mailbox.mbox(source)  # the standard library writes it (mboxo quoting, its From lines)
    for file in files:
        box.add(file.read_bytes())
    box.close()
    running = sandbox_factory()

    done = cli(running, "import", str(source))
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().strip() == f"{source}: imported {len(files)} message(s)"
    exported = tmp_path / "exported.mbox"
    done = cli(running, "export", "--format", "mbox", "--output", str(exported))
    assert done.returncode == 0, done.stderr
    assert done.stderr.decode().strip() == f"exported {len(files)} message(s) to {exported}"
    assert exported.read_bytes() == source.read_bytes()

    # Each message is stored as it was (only line endings made CRLF): no header added
    for file, raw in zip(files, stored_raws(running), strict=True):
        original = file.read_bytes()
        if original.startswith(b"From "):  # the mbox took that line as its separator
            original = original.split(b"\n", 1)[1]
        expected = original.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        assert raw == expected + (b"" if expected.endswith(b"\r\n") else b"\r\n"), file.name
    # ... and the stdout form of export is the same file
    to_stdout = cli(running, "export")
    assert to_stdout.stdout == source.read_bytes()


def test_maildir_and_eml_folders_round_trip(tmp_path: Path, sandbox_factory: Factory) -> None:
    files = corpus()[:10]
    folder = tmp_path / "emls" / "nested"
    folder.mkdir(parents=True)
    for file in files:
        (folder / f"{file.stem}.eml").write_bytes(file.read_bytes())
    first = sandbox_factory()
    done = cli(first, "import", "--inbox", "archive", str(tmp_path / "emls"))
    assert done.returncode == 0, done.stderr
    raws = stored_raws(first)
    assert len(raws) == 10
    httpx.get(first.url + "/api/v1/message/latest")  # opening it marks it read

    maildir = tmp_path / "Maildir"
    done = cli(first, "export", "--inbox", "archive", "--format", "maildir", "-o", str(maildir))
    assert done.returncode == 0, done.stderr
    assert len(list((maildir / "new").iterdir())) == 9
    [read] = list((maildir / "cur").iterdir())
    assert read.name.endswith(":2,S") and (maildir / "tmp").is_dir()
    assert list(mailbox.Maildir(maildir).keys())  # the standard library reads it as a Maildir

    second = sandbox_factory(db=str(tmp_path / "second.db"))
    done = cli(second, "import", str(maildir))
    assert done.returncode == 0, done.stderr
    assert sorted(stored_raws(second)) == sorted(raws)


def test_the_api(tmp_path: Path, sandbox_factory: Factory) -> None:
    running = sandbox_factory(inbox_rule=["to:*@tenant-a.test=tenant-a"])
    api = httpx.Client(base_url=running.url, timeout=30)
    one = b"From: a@example.com\nTo: ann@tenant-a.test\nSubject: One\n\nfirst\n"
    reply = api.post("/api/v1/import", content=one)
    assert reply.status_code == 200 and reply.json()["Imported"] == 1
    assert api.get("/api/v1/inboxes").json()["inboxes"][0]["Name"] == "tenant-a"  # rules apply

    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as zipped:
        zipped.writestr("a/two.eml", b"Subject: Two\r\n\r\nsecond\r\n")
        zipped.writestr("Maildir/tmp/ignored", b"Subject: Not me\r\n\r\n")
    reply = api.post("/api/v1/import", params={"inbox": "zips"}, content=packed.getvalue())
    assert reply.json()["Imported"] == 1
    assert api.get("/api/v1/search", params={"query": "inbox:zips"}).json()["messages_count"] == 1
    message = api.get("/api/v1/message/latest").json()
    assert message["Subject"] == "Two" and message["MessageID"] == ""  # stored as it is

    assert api.post("/api/v1/import", content=b"PK\x03\x04junk").status_code == 400
    assert api.post("/api/v1/import", content=b"").status_code == 400
    assert api.get("/api/v1/export", params={"format": "pst"}).status_code == 400
    assert api.get("/api/v1/export", params={"query": "x" * 5000}).status_code == 400

    only = api.get("/api/v1/export", params={"query": "subject:Two", "format": "eml-zip"})
    assert only.headers["content-type"] == "application/zip"
    assert only.headers["content-disposition"].endswith('.zip"')
    with zipfile.ZipFile(io.BytesIO(only.content)) as zipped:
        [name] = zipped.namelist()
        assert zipped.read(name) == b"Subject: Two\r\n\r\nsecond\r\n"
    mbox = api.get("/api/v1/export")
    assert mbox.headers["content-type"] == "application/mbox" and mbox.headers["x-messages"] == "2"
    assert mbox.content.startswith(b"From a@example.com ") is False  # the From line: no envelope
    assert mbox.content.startswith(b"From MAILER-DAEMON ")

    page = api.get("/", params={"q": "subject:Two"}).text
    assert 'href="/api/v1/export?query=subject%3ATwo&amp;format=mbox" download' in page

    metrics = api.get("/metrics").text
    assert 'mailsandbox_messages_received_total{door="import"} 2' in metrics


def test_cli_errors_are_one_line(tmp_path: Path, running: RunningSandbox) -> None:
    missing = cli(running, "import", str(tmp_path / "nope.mbox"))
    assert missing.returncode == 2 and missing.stderr.decode().count("\n") == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = cli(running, "import", str(empty))
    assert nothing.returncode == 2 and b"no messages in" in nothing.stderr
    no_folder = cli(running, "export", "--format", "maildir")
    assert no_folder.returncode == 2 and b"needs --output FOLDER" in no_folder.stderr
    bad_query = cli(running, "export", "--query", "x" * 5000)
    assert bad_query.returncode == 1 and b"the sandbox answered 400" in bad_query.stderr
    unreachable = cli(running, "export", "--url", "http://127.0.0.1:1")
    assert unreachable.returncode == 1 and unreachable.stderr.decode().count("\n") == 1
