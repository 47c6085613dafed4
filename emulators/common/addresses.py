"""Address strings as ESP APIs take them (``Name <local@domain>``, comma-separated lists) turned
into ``(name, address)`` pairs or the writer's ``{"name", "email"}`` entries, and the
plausibility check the emulators apply.

Shared by the Mailgun emulator (form fields), the SES emulator (``Source``, ``ToAddresses``),
Postmark (``From``, comma-separated ``To``) and Resend (``from``, ``to`` lists).
"""

from __future__ import annotations

import re
from email.utils import getaddresses

# ``Plain Name <local@domain>`` or ``local@domain`` with nothing getaddresses would rewrite
# (no quotes, comments, dots in the name, repeated spaces, or unusual characters).
_LOCAL = r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
_SIMPLE = re.compile(rf"(?:([A-Za-z0-9]+(?: [A-Za-z0-9]+)*) ?<({_LOCAL})>|({_LOCAL}))")


def addresses(values: list[str]) -> list[tuple[str, str]]:
    """Repeated and comma-separated address fields → ``[(name, addr)]`` (quoted commas kept;
    an unparsable entry comes back as ``("", "")``)."""
    cleaned = [v.strip().strip(",").strip() for v in values]
    cleaned = [v for v in cleaned if v]
    simple = [_SIMPLE.fullmatch(v) for v in cleaned]
    if all(simple):  # what getaddresses would return, without its character-by-character walk
        return [(m.group(1) or "", m.group(2) or m.group(3)) for m in simple if m]
    return getaddresses(cleaned)


def valid_address(addr: str) -> bool:
    local, at, domain = addr.rpartition("@")
    return bool(at and local and "." in domain and " " not in addr)


def entry(address: str) -> dict[str, str]:
    """``"Name <a@b.example>"`` → ``{"name": "Name", "email": "a@b.example"}`` (the shape the
    MIME writer takes)."""
    found = addresses([address])
    name, email = found[0] if found else ("", address)
    return {"name": name, "email": email or address}
