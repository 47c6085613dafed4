"""Spam score through a real SpamAssassin ``spamd`` (``--spamassassin HOST:PORT``).

The spamd protocol (SPAMC/1.5, ``REPORT``): send the raw message, half-close, read the report,
as Mailpit's ``internal/spamassassin/spamc`` does, and answer Mailpit's ``SpamAssassinResponse``
``{"IsSpam", "Error", "Score", "Rules": [{"Score", "Name", "Description"}]}``. A spamd that
cannot be reached is still a 200 with ``Error`` set and ``Rules`` null, as in Mailpit.

Differences, on purpose: scores are rounded to one decimal (Mailpit floors a float32, which
turns spamd's ``2.3`` into ``2.2``); the whole exchange has a :data:`TIMEOUT` deadline and the
reply is read up to :data:`MAX_REPLY` bytes.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

log = logging.getLogger(__name__)

TIMEOUT = 15.0
MAX_REPLY = 4 * 1024 * 1024
SPAM_SCORE = 5.0  # Mailpit's fixed threshold; spamd's own ``required`` is not used
_INFO = re.compile(r"^(.+)/(.+) (\d+) (.+)")
_SUMMARY = re.compile(r"^Spam: (.+) ; (.+) / (.+)$")
_RULE = re.compile(r"^\s?(-?[0-9.]+)\s([a-zA-Z0-9_]*)(\W*)(.*)")
_CONTINUATION = "\n" + " " * 28


def _error(text: str) -> dict[str, Any]:
    return {"IsSpam": False, "Error": text, "Score": 0, "Rules": None}


def _number(text: str) -> float:
    try:
        return round(float(text), 1)
    except ValueError:
        return 0.0


def parse_report(reply: str) -> dict[str, Any]:
    """Mailpit's result from spamd's REPORT reply (headers, blank line, report text)."""
    lines = [line.rstrip(" \t\r") for line in reply.replace("\r\n", "\n").split("\n")]
    text = "\n".join(lines).replace(_CONTINUATION, " ")
    score = 0.0
    code = 0
    rules: list[dict[str, Any]] = []
    in_rules = False
    for line in text.split("\n"):
        if not in_rules and (info := _INFO.match(line)) and line.startswith("SPAMD/"):
            code = int(info.group(3))
            continue
        if summary := _SUMMARY.match(line):
            score = _number(summary.group(2).strip())
            continue
        if line.startswith("Content analysis details"):
            in_rules = True
            continue
        if in_rules and (rule := _RULE.match(line)):
            rules.append(
                {
                    "Score": _number(rule.group(1)),
                    "Name": rule.group(2),
                    "Description": rule.group(4),
                }
            )
    if code != 0:
        return {"IsSpam": False, "Error": "", "Score": 0, "Rules": []}
    return {"IsSpam": score >= SPAM_SCORE, "Error": "", "Score": score, "Rules": rules}


async def _read_all(host: str, port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
        chunks, size = [], 0
        while size < MAX_REPLY:
            chunk = await reader.read(65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        writer.close()


async def report(raw: bytes, address: tuple[str, int]) -> dict[str, Any]:
    """Ask spamd at ``address`` for a REPORT on ``raw``."""
    host, port = address
    request = b"REPORT SPAMC/1.5\r\nContent-length: %d\r\n\r\n" % len(raw) + raw
    try:
        reply = await asyncio.wait_for(_read_all(host, port, request), TIMEOUT)
    except TimeoutError:
        return _error(f"read tcp {host}:{port}: i/o timeout")
    except ConnectionRefusedError:
        return _error(f"dial tcp {host}:{port}: connect: connection refused")
    except OSError as exc:
        return _error(f"dial tcp {host}:{port}: {exc.strerror or exc}")
    return parse_report(reply.decode("utf-8", "replace"))


async def ping(address: tuple[str, int]) -> bool:
    """Whether spamd answers ``PING`` (checked once at start, to warn early)."""
    try:
        reply = await asyncio.wait_for(_read_all(*address, b"PING SPAMC/1.5\r\n\r\n"), TIMEOUT)
    except (TimeoutError, OSError):
        return False
    return b"PONG" in reply


async def warn_if_unreachable(address: tuple[str, int]) -> None:
    """Log a warning at start when spamd does not answer (the check still runs later)."""
    if not await ping(address):
        log.warning("SpamAssassin spamd at %s:%d does not answer PING", *address)
