"""``mailsandbox import`` and ``mailsandbox export``: mail in and out of a running sandbox,
through its API (``POST /api/v1/import``, ``GET /api/v1/export``).

Import takes files and folders: an mbox file (it starts with a ``From `` line), a message file
(``.eml``), a Maildir (a folder with ``cur/`` or ``new/``), or a folder of ``.eml`` files (and
its subfolders). An mbox is sent in parts cut at message boundaries, other messages in zips of
up to ``PART`` bytes, so an archive of any size imports. Export writes an mbox or a zip to a
file (or standard output), or unpacks a Maildir into a folder.

Errors are one line on standard error: status 2 for what the user can fix (a path that does not
exist, a folder with no mail), 1 when the sandbox refuses or cannot be reached.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from mailsandbox import archive

PART = 16 * 1024 * 1024  # bytes per request
PART_FILES = 1000
TIMEOUT = httpx.Timeout(600.0, connect=10.0)


class UserError(Exception):
    """Something the user can fix (exit status 2)."""


class SandboxError(Exception):
    """The sandbox refused (exit status 1)."""


def _check(reply: httpx.Response) -> None:
    if reply.status_code != 200:
        reply.read()
        raise SandboxError(f"the sandbox answered {reply.status_code}: {reply.text.strip()}")


@dataclass
class Target:
    url: str
    auth: tuple[str, str] | None
    inbox: str

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url.rstrip("/"), auth=self.auth, timeout=TIMEOUT)


def _message_files(path: Path) -> list[Path]:
    """The message files of a folder: a Maildir's ``cur`` and ``new``, else its ``.eml`` files."""
    maildir = [path / "cur", path / "new"]
    if any(d.is_dir() for d in maildir):
        files = [f for d in maildir if d.is_dir() for f in d.iterdir() if f.is_file()]
        return sorted(files, key=lambda f: f.name)  # Maildir names start with the time
    return sorted(f for f in path.rglob("*.eml") if f.is_file())


def _zips(files: list[Path], root: Path) -> Iterator[tuple[bytes, int]]:
    """The files packed in zips of up to ``PART`` bytes: (zip, how many files)."""
    stream, data, count = archive.ZipStream(), bytearray(), 0
    for file in files:
        data += stream.add(file.relative_to(root).as_posix(), file.read_bytes())
        count += 1
        if len(data) >= PART or count >= PART_FILES:
            yield bytes(data + stream.close()), count
            stream, data, count = archive.ZipStream(), bytearray(), 0
    if count:
        yield bytes(data + stream.close()), count


def _parts(path: Path) -> Iterator[bytes]:
    """What to POST for one path (each part is an mbox, a zip or one message)."""
    if path.is_dir():
        files = _message_files(path)
        if not files:
            raise UserError(f"no messages in {path} (no Maildir, no .eml files)")
        for data, _ in _zips(files, path):
            yield data
        return
    with path.open("rb") as file:
        if archive.is_mbox(file.read(5)):
            file.seek(0)
            yield from archive.split_mbox(file, PART)
        else:
            file.seek(0)
            yield file.read()


def import_paths(paths: Sequence[str], target: Target) -> int:
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise UserError(f"no such file or folder: {missing[0]}")
    with target.client() as client:
        for name in paths:
            imported = skipped = 0
            for part in _parts(Path(name)):
                params = {"inbox": target.inbox} if target.inbox else None
                reply = client.post("/api/v1/import", content=part, params=params)
                if reply.status_code != 200:
                    raise httpx.HTTPError(
                        f"the sandbox answered {reply.status_code}: {reply.text.strip()}"
                    )
                result = reply.json()
                imported += result["Imported"]
                skipped += len(result["Skipped"])
                for item in result["Skipped"]:
                    print(f"{name}: skipped {item['Name']}: {item['Error']}", file=sys.stderr)
            print(
                f"{name}: imported {imported} message(s)"
                + (f", skipped {skipped}" if skipped else "")
            )
    return 0


def export(target: Target, query: str, fmt: str, output: str) -> int:
    params = {"query": query, "format": fmt}
    if target.inbox:
        params["inbox"] = target.inbox
    if fmt == "maildir" and (not output or output == "-"):
        raise UserError("--format maildir needs --output FOLDER")
    with target.client() as client, client.stream("GET", "/api/v1/export", params=params) as reply:
        _check(reply)
        count = reply.headers.get("x-messages", "?")
        if fmt == "maildir":
            with tempfile.TemporaryFile() as spool:
                for chunk in reply.iter_bytes():
                    spool.write(chunk)
                spool.seek(0)
                folder = Path(output)
                for sub in ("cur", "new", "tmp"):
                    (folder / sub).mkdir(parents=True, exist_ok=True)
                with zipfile.ZipFile(spool) as zipped:
                    zipped.extractall(folder)
        elif not output or output == "-":
            for chunk in reply.iter_bytes():
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
        else:
            with open(output, "wb") as file:
                for chunk in reply.iter_bytes():
                    file.write(chunk)
    where = "standard output" if not output or output == "-" else output
    print(f"exported {count} message(s) to {where}", file=sys.stderr)
    return 0


def run(command: str, args: argparse.Namespace) -> int:
    """``mailsandbox import|export`` with parsed arguments: the exit status."""
    auth = None
    if args.auth:
        user, sep, password = args.auth.partition(":")
        if not sep or not user:
            print(f"mailsandbox {command}: --auth expects USER:PASS", file=sys.stderr)
            return 2
        auth = (user, password)
    target = Target(args.url, auth, args.inbox)
    try:
        if command == "import":
            return import_paths(args.paths, target)
        return export(target, args.query, args.format, args.output)
    except UserError as exc:
        print(f"mailsandbox {command}: {exc}", file=sys.stderr)
        return 2
    except (SandboxError, httpx.HTTPError, OSError, zipfile.BadZipFile) as exc:
        print(f"mailsandbox {command}: {exc}", file=sys.stderr)
        return 1
