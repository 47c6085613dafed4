"""The error collector and small value checks shared by the mail-send validators.

SendGrid reports every problem of a request at once, each with a dotted ``field`` path such as
``personalizations.0.to.0.email``; :class:`Checks` accumulates them in that shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mailsandbox.emulators.sendgrid.errors import HELP_ROOT, ErrorItem, SendGridError

_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"\\]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
MAX_EMAIL = 320


# what json.loads makes, looked up by exact type (subclasses take the isinstance chain below)
_JSON_TYPES: dict[type, str] = {
    type(None): "null",
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
}


def json_type(value: Any) -> str:
    """JSON-schema type names, as SendGrid's ``Invalid type`` messages use them."""
    name = _JSON_TYPES.get(type(value))
    if name is not None:
        return name
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def valid_email(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= MAX_EMAIL and bool(_EMAIL.match(value))


def has_crlf(value: str) -> bool:
    return "\r" in value or "\n" in value


@dataclass
class Checks:
    """Collects SendGrid errors; :meth:`raise_if_any` turns them into a 400."""

    errors: list[ErrorItem] = field(default_factory=list)

    def add(self, message: str, field_path: str | None, help_anchor: str | None = None) -> None:
        help_url = f"{HELP_ROOT}#{help_anchor}" if help_anchor else None
        self.errors.append(ErrorItem(message, field_path, help_url))

    def type_is(self, value: Any, expected: str, path: str, help_anchor: str | None = None) -> bool:
        """True when ``value`` has JSON type ``expected``; otherwise records the error."""
        given = json_type(value)
        ok = given == expected or (expected == "number" and given == "integer")
        if not ok:
            self.add(f"Invalid type. Expected: {expected}, given: {given}.", path, help_anchor)
        return ok

    def optional(self, obj: dict[str, Any], key: str, expected: str, path: str) -> Any:
        """``obj[key]`` when present and of the right type, else None (errors recorded)."""
        if key not in obj or obj[key] is None:
            return None
        value = obj[key]
        return value if self.type_is(value, expected, path) else None

    def string_map(self, value: Any, path: str) -> dict[str, str]:
        """An object whose values must all be strings (headers, substitutions, custom_args)."""
        if not self.type_is(value, "object", path):
            return {}
        for key, item in value.items():
            self.type_is(item, "string", f"{path}.{key}")
        return {k: v for k, v in value.items() if isinstance(v, str)}

    def raise_if_any(self) -> None:
        if self.errors:
            raise SendGridError(400, self.errors)
