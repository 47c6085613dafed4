"""The query language of SendGrid's Email Activity API (``GET /v3/messages?query=...``), as far
as a sandbox needs it: compiled to a predicate over the activity rows of
:mod:`.activity_api`.

Supported (the "Query Reference" of SendGrid's "Getting Started with the Email Activity Feed
API"): ``field="value"`` and ``!=``; ``<``, ``>``, ``<=``, ``>=`` (numbers and timestamps);
``field LIKE "%part%"`` (case-insensitive); ``field IN ("a", "b")`` and ``NOT IN``;
``last_event_time BETWEEN TIMESTAMP "2024-01-01T00:00:00Z" AND TIMESTAMP "..."``;
``Contains(categories, "welcome")``; ``unique_args['key']="value"``; ``AND``, ``OR``, ``NOT``
and parentheses. An unknown field is a 400 ``invalid syntax: 'x' is not a known field`` (the
OpenAPI document's example); other malformed queries are 400 ``invalid syntax: ...``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

Row = dict[str, Any]
Predicate = Callable[[Row], bool]
FIELDS = (
    "msg_id",
    "from_email",
    "subject",
    "to_email",
    "status",
    "template_id",
    "asm_group_id",
    "categories",
    "unique_args",
    "last_event_time",
    "opens_count",
    "clicks_count",
    "originating_ip",
    "outbound_ip",
    "api_key_id",
)
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>!=|<=|>=|=|<|>|\(|\)|,|\[|\])
      | (?P<num>-?\d+(?:\.\d+)?)
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)


class QueryError(ValueError):
    """A query that cannot be run; the message is the 400's."""


def _tokens(text: str) -> list[tuple[str, str]]:
    out, at = [], 0
    text = text.strip()
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None or match.end() == at:
            raise QueryError(f"invalid syntax: unexpected {text[at : at + 20]!r}")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        out.append((kind, value))
        at = match.end()
    return out


def _timestamp(value: str) -> float:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError as exc:
        raise QueryError(f"invalid syntax: {value!r} is not a timestamp") from exc


def _like(pattern: str) -> re.Pattern[str]:
    parts = (".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.at] if self.at < len(self.tokens) else ("end", "")

    def word(self, *words: str) -> bool:
        kind, value = self.peek()
        if kind == "word" and value.upper() in words:
            self.at += 1
            return True
        return False

    def take(self, kind: str, value: str | None = None) -> str:
        found = self.peek()
        if found[0] != kind or (value is not None and found[1] != value):
            raise QueryError(f"invalid syntax: expected {value or kind} at {found[1]!r}")
        self.at += 1
        return found[1]

    def parse(self) -> Predicate:
        predicate = self.expression()
        if self.peek()[0] != "end":
            raise QueryError(f"invalid syntax: unexpected {self.peek()[1]!r}")
        return predicate

    def expression(self) -> Predicate:
        terms = [self.conjunction()]
        while self.word("OR"):
            terms.append(self.conjunction())
        return terms[0] if len(terms) == 1 else lambda row: any(t(row) for t in terms)

    def conjunction(self) -> Predicate:
        terms = [self.negation()]
        while self.word("AND"):
            terms.append(self.negation())
        return terms[0] if len(terms) == 1 else lambda row: all(t(row) for t in terms)

    def negation(self) -> Predicate:
        if self.word("NOT"):
            inner = self.negation()
            return lambda row: not inner(row)
        if self.peek() == ("op", "("):
            self.at += 1
            inner = self.expression()
            self.take("op", ")")
            return inner
        return self.condition()

    def value(self) -> Any:
        if self.word("TIMESTAMP"):
            return _timestamp(self.take("str"))
        kind, value = self.peek()
        if kind == "str":
            self.at += 1
            return value
        if kind == "num":
            self.at += 1
            return float(value)
        raise QueryError(f"invalid syntax: expected a value at {value!r}")

    def field(self) -> Callable[[Row], Any]:
        name = self.take("word")
        if name.lower() == "contains":
            raise QueryError("invalid syntax: Contains(field, value) expected")
        if name not in FIELDS:
            raise QueryError(f"invalid syntax: '{name}' is not a known field")
        if self.peek() == ("op", "["):
            self.at += 1
            key = self.take("str")
            self.take("op", "]")
            return lambda row: row.get(name, {}).get(key)
        return lambda row: row.get(name)

    def condition(self) -> Predicate:
        if self.peek()[0] == "word" and self.peek()[1].lower() == "contains":
            self.at += 1
            self.take("op", "(")
            get = self.field()
            self.take("op", ",")
            wanted = self.value()
            self.take("op", ")")
            return lambda row: wanted in (get(row) or [])
        get = self.field()
        negate = self.word("NOT")
        if self.word("IN"):
            self.take("op", "(")
            options = [self.value()]
            while self.peek() == ("op", ","):
                self.at += 1
                options.append(self.value())
            self.take("op", ")")
            return lambda row: (_same(get(row), options)) != negate
        if self.word("LIKE"):
            pattern = _like(str(self.value()))
            return lambda row: bool(pattern.fullmatch(str(get(row) or ""))) != negate
        if self.word("BETWEEN"):
            low = self.value()
            if not self.word("AND"):
                raise QueryError("invalid syntax: BETWEEN needs AND")
            high = self.value()
            return lambda row: (low <= _number(get(row)) <= high) != negate
        if negate:
            raise QueryError("invalid syntax: NOT must come before IN or LIKE")
        op = self.take("op")
        wanted = self.value()
        compare = _COMPARE.get(op)
        if compare is None:
            raise QueryError(f"invalid syntax: unknown operator {op!r}")
        return lambda row: compare(get(row), wanted)


def _number(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return _timestamp(value) if "T" in value else float(value)
        except (QueryError, ValueError):
            return float("nan")
    return float("nan")


def _same(value: Any, options: list[Any]) -> bool:
    return any(_equal(value, option) for option in options)


def _equal(value: Any, wanted: Any) -> bool:
    if isinstance(wanted, float):
        return _number(value) == wanted
    return str(value if value is not None else "") == wanted


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": _equal,
    "!=": lambda value, wanted: not _equal(value, wanted),
    "<": lambda value, wanted: _number(value) < _number(wanted),
    ">": lambda value, wanted: _number(value) > _number(wanted),
    "<=": lambda value, wanted: _number(value) <= _number(wanted),
    ">=": lambda value, wanted: _number(value) >= _number(wanted),
}


def compile_query(text: str) -> Predicate:
    """A predicate over activity rows; :class:`QueryError` when the query cannot be run."""
    if not text.strip():
        raise QueryError("invalid syntax: query is required")
    return _Parser(text).parse()
