"""Mail archive formats: mbox (mboxrd), Maildir and zips of ``.eml`` files, in and out.

**mbox** is read the way mboxrd writers and readers agree on, which also reads mboxo files
(Thunderbird's, Python's ``mailbox``) correctly: a message starts at a ``From `` line at the
start of the file or after a blank line, and one ``>`` is taken off every ``>…>From `` line in
it. Writing quotes those lines again, so reading a file and writing what it held gives the same
bytes back. Each message's ``From `` line and its line endings (LF, or CRLF throughout) are
kept with it (:class:`Archived`), so an mbox exported after an import is the file imported.

**Maildir** messages are files under ``cur/`` and ``new/`` (``tmp/`` is skipped); an export
puts read messages in ``cur/`` with the ``S`` flag and the others in ``new/``. A **zip** holds
one message per file (``.eml`` files, or a Maildir). Exports are streamed: a zip is written
entry by entry as the messages are read (:class:`ZipStream`).
"""

from __future__ import annotations

import re
import time
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO

FROM_QUOTED = re.compile(rb"^>*From ")
DEFAULT_SENDER = "MAILER-DAEMON"


@dataclass
class Archived:
    """A message as an archive holds it."""

    raw: bytes
    from_line: str = ""  # the mbox "From " line, without its line ending ("" if none)
    crlf: bool = False  # its lines ended in CRLF in the archive
    crlf_envelope: bool = False  # its "From " line (and the blank line after it) did
    name: str = ""  # the file it came from (a zip entry, a Maildir file)


def _finish(lines: list[bytes], from_line: bytes) -> Archived:
    if lines and lines[-1] in (b"\n", b"\r\n"):
        lines.pop()  # the blank line that separates it from the next message
    raw = b"".join(_unquote(line) for line in lines)
    crlf = bool(lines) and all(line.endswith(b"\r\n") for line in lines if line.endswith(b"\n"))
    envelope = from_line.rstrip(b"\r\n").decode("utf-8", "replace")
    return Archived(raw, envelope, crlf, from_line.endswith(b"\r\n"))


def _unquote(line: bytes) -> bytes:
    return line[1:] if line.startswith(b">") and FROM_QUOTED.match(line) else line


def read_mbox(lines: Iterable[bytes]) -> Iterator[Archived]:
    """The messages of an mbox, given as its lines (each with its line ending)."""
    current: list[bytes] | None = None
    from_line = b""
    blank_before = True
    for line in lines:
        if line.startswith(b"From ") and blank_before:
            if current is not None:
                yield _finish(current, from_line)
            current, from_line = [], line
            blank_before = False
            continue
        blank_before = line in (b"\n", b"\r\n")
        if current is not None:
            current.append(line)
    if current is not None:
        yield _finish(current, from_line)


def split_mbox(lines: Iterable[bytes], limit: int) -> Iterator[bytes]:
    """An mbox cut at message boundaries into parts of about ``limit`` bytes, each an mbox."""
    part: list[bytes] = []
    size = 0
    blank_before = True
    for line in lines:
        if line.startswith(b"From ") and blank_before and size >= limit:
            yield b"".join(part)
            part, size = [], 0
        blank_before = line in (b"\n", b"\r\n")
        part.append(line)
        size += len(line)
    if part:
        yield b"".join(part)


def is_mbox(head: bytes) -> bool:
    """Whether a file starting with ``head`` is an mbox (rather than one message): it starts
    with a ``From `` line (a message file starting with one is read as an mbox of one)."""
    return head.startswith(b"From ")


def mbox_from_line(sender: str, created: float) -> str:
    """A ``From `` line for a message that came without one: ``From sender asctime``."""
    sender = "".join(sender.split()) or DEFAULT_SENDER
    return f"From {sender} {time.asctime(time.gmtime(created))}"


def to_mbox(message: Archived) -> bytes:
    """One message as an mbox entry: its ``From `` line, its quoted lines, a blank line."""
    newline = b"\r\n" if message.crlf else b"\n"
    outer = b"\r\n" if message.crlf_envelope else b"\n"
    lines = message.raw.replace(b"\r\n", b"\n").split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    quoted = (b">" + line if FROM_QUOTED.match(line) else line for line in lines)
    body = b"".join(line + newline for line in quoted)
    return message.from_line.encode("utf-8") + outer + body + outer


def maildir_name(created: float, message_id: str, read: bool) -> str:
    """``new/TIME.ID.mailsandbox``, or ``cur/TIME.ID.mailsandbox:2,S`` once read."""
    base = f"{int(created)}.{message_id}.mailsandbox"
    return f"cur/{base}:2,S" if read else f"new/{base}"


def maildir_message(raw: bytes) -> bytes:
    """A message as a Maildir file holds it: LF line endings."""
    return raw.replace(b"\r\n", b"\n")


def read_zip(file: IO[bytes]) -> Iterator[Archived]:
    """The messages of a zip: every file in it, but those in a Maildir's ``tmp/``."""
    with zipfile.ZipFile(file) as archive:
        for info in archive.infolist():
            parts = info.filename.split("/")
            if info.is_dir() or "tmp" in parts[:-1] or parts[-1].startswith("."):
                continue
            yield Archived(archive.read(info), name=info.filename)


class _Buffer:
    """What ``zipfile`` writes into: bytes taken away as they come (it cannot seek)."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, chunk: bytes) -> int:
        self.data += chunk
        return len(chunk)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        out = bytes(self.data)
        self.data.clear()
        return out


class ZipStream:
    """A zip written a file at a time; :meth:`add` and :meth:`close` return the bytes to send."""

    def __init__(self) -> None:
        self._buffer = _Buffer()
        self._zip = zipfile.ZipFile(self._buffer, "w", zipfile.ZIP_DEFLATED)  # type: ignore[call-overload]

    def add(self, name: str, data: bytes, created: float | None = None) -> bytes:
        stamp = time.localtime(created if created is not None else time.time())[:6]
        info = zipfile.ZipInfo(name, date_time=max(stamp, (1980, 1, 1, 0, 0, 0)))
        info.compress_type = zipfile.ZIP_DEFLATED
        self._zip.writestr(info, data)
        return self._buffer.take()

    def add_dir(self, name: str) -> bytes:
        self._zip.writestr(zipfile.ZipInfo(name.rstrip("/") + "/"), b"")
        return self._buffer.take()

    def close(self) -> bytes:
        self._zip.close()
        return self._buffer.take()
