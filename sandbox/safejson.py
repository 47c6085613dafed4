"""Decoding JSON that a client sent: one helper for every route and form field that parses it.

``json.loads`` raises ``RecursionError`` (not ``ValueError``) on deeply nested input, and a
document nested just under the interpreter's limit still breaks whatever walks it next
(validation, template rendering, ``json.dumps`` when it is stored). :func:`loads` turns every
way a document can be unusable (bad syntax, bad UTF-8, nesting deeper than ``MAX_DEPTH``) into
one :class:`JSONInputError`, which each caller answers in its provider's error shape (REST
``{"Error": ...}``, SendGrid ``{"errors": [...]}``, Mailgun ``{"message": ...}``).
:func:`loads_off_loop` does the same on a worker thread for big documents, so decoding one
never holds up the event loop. :func:`read_body` reads a request body up to a limit.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.requests import Request

MAX_DEPTH = 64  # far beyond real API bodies; far below the interpreter's recursion limit
OFF_LOOP_BYTES = 256 * 1024  # documents bigger than this are decoded on a worker thread


class JSONInputError(ValueError):
    """The text is not a JSON document this service accepts."""


class BodyTooLarge(ValueError):
    """The request body is longer than the route accepts."""


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether containers nest deeper than ``limit`` (iterative: no recursion to run out of)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def loads(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """The decoded document; :class:`JSONInputError` for anything unusable."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise JSONInputError("JSON nested too deeply") from None
    except ValueError as exc:  # includes UnicodeDecodeError (bytes that are not UTF-8)
        raise JSONInputError(f"invalid JSON: {exc}") from None
    if isinstance(value, (dict, list)):
        # Nesting needs at least one bracket per level: few brackets, no walk needed.
        brackets = (
            data.count("[") + data.count("{")
            if isinstance(data, str)
            else (data.count(b"[") + data.count(b"{"))
        )
        if brackets > max_depth and _depth_exceeds(value, max_depth):
            raise JSONInputError(f"JSON nested deeper than {max_depth} levels")
    return value


async def loads_off_loop(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """:func:`loads`, on a worker thread when the document is big."""
    if len(data) <= OFF_LOOP_BYTES:
        return loads(data, max_depth=max_depth)
    return await asyncio.to_thread(loads, data, max_depth=max_depth)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body; :class:`BodyTooLarge` as soon as it passes ``limit`` bytes (what was
    declared in ``Content-Length`` is checked first, so nothing is read in vain)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"request body larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"request body larger than {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # as Request.body() caches it, for anyone who reads it again
    return body
