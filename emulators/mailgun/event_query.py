"""Mailgun Events API queries: filters (with ``OR`` / ``NOT``) turned into SQL over the shared
``events`` table, and the opaque page tokens the paging URLs carry."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import astuple, dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

from mailsandbox import safejson
from mailsandbox.emulators.mailgun.errors import bad_request
from mailsandbox.storage.sql import POSTGRESQL, SQLITE

# Mailgun event name → rows of the shared vocabulary
TYPES_FOR_NAME: dict[str, list[str]] = {
    "accepted": ["queued"],
    "delivered": ["delivered"],
    "failed": ["deferred", "bounced"],
    "rejected": ["rejected"],
    "opened": ["opened"],
    "clicked": ["clicked"],
    "complained": ["complained"],
    "unsubscribed": ["unsubscribed"],
    "stored": [],
}
SEVERITY_TYPES = {"temporary": ["deferred"], "permanent": ["bounced", "rejected"]}
FILTERS = ("event", "from", "message-id", "subject", "to", "recipient", "tags", "severity")
_MESSAGE_COLUMNS = {"from": "from_json", "subject": "subject", "to": "to_json"}
# The message's sending domain (kept in its metadata), by dialect.
_DOMAIN = {
    SQLITE: "json_extract(metadata_json, '$.mailgun.domain') = ?",
    POSTGRESQL: "(metadata_json::jsonb #>> '{mailgun,domain}') = ?",
}


@dataclass
class Query:
    """Everything that selects a page; serialised into the page token."""

    domain: str
    filters: dict[str, str] = field(default_factory=dict)
    begin: float | None = None
    end: float | None = None
    ascending: bool = False
    limit: int = 100
    cursor: int | None = None  # continue after this seq in the query's direction
    reverse: bool = False  # walk backwards (previous/last pages), then flip the items

    def token(self) -> str:
        """Opaque, URL-safe; the domain is not in it (it comes from the path)."""
        fields = astuple(self)[1:]
        raw = json.dumps(fields, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def from_token(cls, token: str, domain: str) -> Query:
        try:
            padded = token + "=" * (-len(token) % 4)
            fields = safejson.loads(base64.urlsafe_b64decode(padded))
            query = cls(domain, *fields)
            if not isinstance(query.filters, dict) or not isinstance(query.limit, int):
                raise TypeError("bad token fields")
        except (binascii.Error, ValueError, TypeError) as exc:
            raise bad_request(f"Invalid page token: {token}") from exc
        return query


def parse_time(value: str, name: str) -> float | None:
    """RFC 2822 date or epoch seconds."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError) as exc:
        raise bad_request(f"Invalid '{name}' value: {value}") from exc


def _terms(expression: str) -> tuple[list[str], bool]:
    """``a OR b`` → ([a, b], False); ``NOT a`` → ([a], True). AND of one field is rare; the
    first term wins."""
    text = expression.strip()
    negate = text.upper().startswith("NOT ")
    if negate:
        text = text[4:]
    text = text.strip("() ")
    parts = [p.strip().strip('"') for p in text.replace(" or ", " OR ").split(" OR ")]
    return [p for p in parts if p], negate


def _required_terms(f: dict[str, str], key: str) -> tuple[list[str], bool]:
    """The terms of a filter that was given; 400 when it has none (``NOT``, ``()``)."""
    if not f.get(key):
        return [], False
    values, negate = _terms(f[key])
    if not values:
        raise bad_request(f"Invalid '{key}' filter: {f[key]}")
    return values, negate


def _types(name_expr: str) -> list[str]:
    names, negate = _required_terms({"event": name_expr}, "event")
    unknown = [n for n in names if n.lower() not in TYPES_FOR_NAME]
    if unknown:
        raise bad_request(f"Invalid event type: {unknown[0]}")
    chosen = {t for n in names for t in TYPES_FOR_NAME[n.lower()]}
    if negate:
        chosen = {t for types in TYPES_FOR_NAME.values() for t in types} - chosen
    return sorted(chosen)


def where_clause(query: Query, dialect: str = SQLITE) -> tuple[str, list[Any]]:
    """SQL (for ``events.query(extra_where=...)``) selecting the domain's matching events.

    Field filters match case-insensitively (SQLite's ``LIKE``; ``ILIKE`` on PostgreSQL)."""
    message_where = [_DOMAIN[dialect]]
    like = "ILIKE" if dialect == POSTGRESQL else "LIKE"
    message_args: list[Any] = [query.domain]
    where: list[str] = []
    args: list[Any] = []
    f = query.filters
    types: list[str] | None = _types(f["event"]) if f.get("event") else None
    if f.get("severity"):
        levels = _required_terms(f, "severity")[0]
        severity = {t for s in levels for t in SEVERITY_TYPES.get(s, [])}
        types = sorted(severity if types is None else severity & set(types))
    if types is not None:
        where.append(f"type IN ({','.join('?' * len(types))})" if types else "FALSE")
        args += types
    values, negate = _required_terms(f, "recipient")
    if values:
        marks = ",".join("?" * len(values))
        where.append(f"lower(recipient) {'NOT ' if negate else ''}IN ({marks})")
        args += [v.lower() for v in values]
    for key, column in _MESSAGE_COLUMNS.items():
        if f.get(key):
            message_where.append(f"{column} {like} ?")
            message_args.append(f"%{f[key]}%")
    if f.get("message-id"):
        message_where.append("message_id = ?")
        message_args.append(f["message-id"].strip().strip("<>"))
    tags, negate = _required_terms(f, "tags")
    if tags:
        marks = ",".join("?" * len(tags))
        message_where.append(
            f"seq {'NOT ' if negate else ''}IN"
            f" (SELECT message_seq FROM message_tags WHERE tag IN ({marks}))"
        )
        message_args += tags
    where.insert(0, f"message_id IN (SELECT id FROM messages WHERE {' AND '.join(message_where)})")
    return " AND ".join(where), message_args + args
