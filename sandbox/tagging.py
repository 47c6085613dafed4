"""Tag rules (Mailpit's): cleaning, de-duplication, and tags derived from a message on arrival."""

from __future__ import annotations

import re
from collections.abc import Iterable

from mailsandbox.mime import Address

_INVALID = re.compile(r"[^A-Za-z0-9 _.@\-]")
_VALID = re.compile(r"^[A-Za-z0-9\- _.@]{1,100}$")


def clean_tag(tag: str) -> str:
    """Characters outside ``[A-Za-z0-9 _.@-]`` become spaces; '' if nothing valid is left."""
    cleaned = " ".join(_INVALID.sub(" ", tag).split())[:100].strip()
    return cleaned if _VALID.match(cleaned) else ""


def clean_tags(tags: Iterable[str]) -> list[str]:
    """Clean, drop invalid, de-duplicate case-insensitively (first spelling wins), sort by name."""
    seen: dict[str, str] = {}
    for tag in tags:
        cleaned = clean_tag(tag)
        if cleaned and cleaned.lower() not in seen:
            seen[cleaned.lower()] = cleaned
    return sorted(seen.values(), key=str.lower)


def plus_tags(addresses: Iterable[Address]) -> list[str]:
    """``user+foo@example.com`` gives the tag ``foo``."""
    tags = []
    for address in addresses:
        local = address.address.partition("@")[0]
        if "+" in local:
            tags.append(local.partition("+")[2])
    return tags
