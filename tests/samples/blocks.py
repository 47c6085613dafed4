"""The fenced code blocks of README.md and docs/*.md, with the note that precedes each.

A block is marked by an italic note on the last non-blank line before its fence:

- ``*Not runnable: <reason>.*``: deliberately not run (an excerpt, a command that never ends);
- ``*Run with: mailsandbox serve <flags>.*``: run against a sandbox started with those flags.

Any other italic line that starts like a note but is not one (a typo, no reason, not right
before a fence) is reported by :func:`stray_notes`, so a mark cannot silently stop working.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)[^`]*$")
NOTE = re.compile(r"^\*(?P<kind>Not runnable|Run with): (?P<text>\S.*?)\.\*$")
NOTE_LIKE = re.compile(r"^\s*\*\s*(not runnable|run with)\b", re.IGNORECASE)
SERVE = "mailsandbox serve"


@dataclass(frozen=True)
class Block:
    """One fenced code block: where it is, its language, its text and its note."""

    path: Path
    line: int  # of the opening fence, 1-based
    language: str
    code: str
    not_runnable: str = ""  # the reason, when marked
    serve_flags: tuple[str, ...] = ()  # from a "Run with" note
    note_line: int = 0  # of the note, 1-based (0: none)

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT).as_posix()}:{self.line}"


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _note(lines: list[str], fence_index: int) -> tuple[int, re.Match[str] | None]:
    """The note on the last non-blank line before the fence at ``fence_index`` and its index."""
    index = fence_index - 1
    while index >= 0 and not lines[index].strip():
        index -= 1
    return index, NOTE.match(lines[index].strip()) if index >= 0 else None


def _flags(path: Path, line: int, text: str) -> tuple[str, ...]:
    if not text.startswith(SERVE):
        raise ValueError(f"{path.name}:{line}: a Run with note names `{SERVE} <flags>`")
    return tuple(shlex.split(text[len(SERVE) :]))


def extract(path: Path) -> list[Block]:
    """Every fenced block of one Markdown file, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        body: list[str] = []
        end = index + 1
        while end < len(lines) and not (
            lines[end].strip().startswith(fence) and lines[end].strip().strip(fence[0]) == ""
        ):
            body.append(lines[end][indent:] if lines[end][:indent].isspace() else lines[end])
            end += 1
        note_index, note = _note(lines, index)
        reason = note["text"] if note and note["kind"] == "Not runnable" else ""
        flags = _flags(path, index + 1, note["text"]) if note and note["kind"] == "Run with" else ()
        code = "\n".join(body) + "\n"
        language = opening["info"].lower()
        note_line = note_index + 1 if note else 0
        blocks.append(Block(path, index + 1, language, code, reason, flags, note_line))
        index = end + 1
    return blocks


def all_blocks() -> list[Block]:
    return [block for path in documents() for block in extract(path)]


def stray_notes(path: Path) -> list[str]:
    """Lines that look like a note but are not one a block takes (``file:line: text``)."""
    taken = {block.note_line for block in extract(path)}
    lines = path.read_text(encoding="utf-8").splitlines()
    return [
        f"{path.name}:{number}: {line.strip()}"
        for number, line in enumerate(lines, 1)
        if NOTE_LIKE.match(line) and number not in taken
    ]
