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

# Mailgun event name → SQL over the shared ``events`` rows. A ``rejected`` row that a
# suppression caused is Mailgun's ``failed`` (reason ``suppress-*``, severity permanent: see
# event_format), so ``event=failed`` must return it and ``event=rejected`` must not.
_SUPPRESSED = "json_extract(details_json, '$.suppressed') IS NOT NULL"
_FAILED_TEMPORARY = (
    "(type = 'deferred' AND coalesce(json_extract(details_json, '$.severity'), '') != 'permanent')"
)
_FAILED_PERMANENT = (
    "(type = 'bounced' OR (type = 'deferred' AND json_extract(details_json, '$.severity') = "
    f"'permanent') OR (type = 'rejected' AND {_SUPPRESSED}))"
)
EVENT_SQL: dict[str, str] = {
    "accepted": "type = 'queued'",
    "delivered": "type = 'delivered'",
    "failed": f"({_FAILED_TEMPORARY} OR {_FAILED_PERMANENT})",
    "rejected": f"(type = 'rejected' AND NOT ({_SUPPRESSED}))",
    "opened": "type = 'opened'",
    "clicked": "type = 'clicked'",
    "complained": "type = 'complained'",
    "unsubscribed": "type = 'unsubscribed'",
    "stored": "FALSE",
}
SEVERITY_SQL = {"temporary": _FAILED_TEMPORARY, "permanent": _FAILED_PERMANENT}
FILTERS = ("event", "from", "message-id", "subject", "to", "recipient", "tags", "severity")
_MESSAGE_COLUMNS = {"from": "from_json", "subject": "subject", "to": "to_json"}
_DOMAIN = "json_extract(metadata_json, '$.mailgun.domain') = ?"  # (kept in its metadata)


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


def _any_of(expressions: list[str], negate: bool) -> str:
    sql = "(" + " OR ".join(expressions) + ")" if expressions else "FALSE"
    return f"NOT {sql}" if negate else sql


def _event_sql(name_expr: str) -> str:
    names, negate = _required_terms({"event": name_expr}, "event")
    unknown = [n for n in names if n.lower() not in EVENT_SQL]
    if unknown:
        raise bad_request(f"Invalid event type: {unknown[0]}")
    return _any_of([EVENT_SQL[n.lower()] for n in names], negate)


def where_clause(query: Query, dialect: str = SQLITE) -> tuple[str, list[Any]]:
    """SQL (for ``events.query(extra_where=...)``) selecting the domain's matching events.

    Field filters match case-insensitively (SQLite's ``LIKE``; ``ILIKE`` on PostgreSQL)."""
    message_where = [_DOMAIN]
    like = "ILIKE" if dialect == POSTGRESQL else "LIKE"
    message_args: list[Any] = [query.domain]
    where: list[str] = []
    args: list[Any] = []
    f = query.filters
    if f.get("event"):
        where.append(_event_sql(f["event"]))
    if f.get("severity"):
        levels, negate = _required_terms(f, "severity")
        where.append(_any_of([SEVERITY_SQL[s] for s in levels if s in SEVERITY_SQL], negate))
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
