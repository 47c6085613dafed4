"""Mailgun route expressions and actions: parsed when a route is saved (400 when they are not
valid), evaluated for each envelope recipient of inbound mail.

Filters (mailgun/documentation ``user_manual.rst``, "Routes"): ``match_recipient(pattern)``,
``match_header(header, pattern)``, ``catch_all()``, several joined with ``and``. Patterns are
Python regular expressions matched from the start of the value (``re.match``), ignoring case
[unverified: Mailgun does not say]. Captures, numbered or named, can be used in the actions as
``\\1`` or ``\\g<name>``. Actions: ``forward("url or address[, ...]")``,
``store()``/``store(notify="url")`` and ``stop()``; arguments in single or double quotes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

_STRING = r"""(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')"""
_CALL = re.compile(rf"\s*([a-z_]+)\s*\(\s*(?:{_STRING}\s*(?:,\s*{_STRING}\s*)?)?\)\s*")
_NOTIFY = re.compile(rf"\s*store\s*\(\s*(?:notify\s*=\s*{_STRING}\s*)?\)\s*$")
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_TEMPLATE = re.compile(r"\\g<(\w+)>|\\(\d+)")
HeaderValues = Callable[[str], list[str]]


class RouteError(ValueError):
    """An expression or action Mailgun would refuse."""


@dataclass(frozen=True)
class Filter:
    kind: str  # match_recipient | match_header | catch_all
    pattern: re.Pattern[str] | None = None
    header: str = ""


@dataclass(frozen=True)
class Expression:
    filters: tuple[Filter, ...]

    @property
    def catch_all(self) -> bool:
        return any(f.kind == "catch_all" for f in self.filters)

    def match(self, recipient: str, headers: HeaderValues) -> list[re.Match[str]] | None:
        """The regex matches (for captures) when every filter holds, else None."""
        found: list[re.Match[str]] = []
        for item in self.filters:
            if item.pattern is None:
                continue  # catch_all: decided by the caller (no earlier route matched)
            values = [recipient] if item.kind == "match_recipient" else headers(item.header)
            hit = next((m for v in values if (m := item.pattern.match(v.strip()))), None)
            if hit is None:
                return None
            found.append(hit)
        return found


@dataclass(frozen=True)
class Action:
    kind: str  # forward | store | stop
    destinations: tuple[str, ...] = ()  # forward: URLs and addresses; store: the notify URL

    def expand(self, captures: list[re.Match[str]]) -> list[str]:
        """The destinations with ``\\1`` / ``\\g<name>`` replaced by the filters' captures."""
        return [_TEMPLATE.sub(lambda t: _capture(captures, t), d) for d in self.destinations]


def _capture(captures: list[re.Match[str]], template: re.Match[str]) -> str:
    name, number = template.group(1), template.group(2)
    for found in captures:
        try:
            value = found.group(name) if name else found.group(int(number))
        except IndexError:  # no such group in this filter's pattern: try the next one
            continue
        return value or ""
    return ""


def _argument(match: re.Match[str], first: int) -> str | None:
    """A quoted argument's text (groups ``first`` and ``first + 1``: double, single quotes)."""
    found: str | None = match.group(first)
    return found if found is not None else match.group(first + 1)


def _pattern(text: str) -> re.Pattern[str]:
    try:
        return re.compile(text, re.IGNORECASE)
    except re.error as exc:
        raise RouteError(f"invalid regular expression {text!r}: {exc}") from None


def parse_expression(text: str) -> Expression:
    if not text.strip():
        raise RouteError("empty expression")
    filters = []
    for term in _AND.split(text.strip()):
        call = _CALL.fullmatch(term)
        if call is None:
            raise RouteError(term.strip())
        name, first, second = call.group(1), _argument(call, 2), _argument(call, 4)
        if name in ("catch_all", "catchall") and first is None:
            filters.append(Filter("catch_all"))
        elif name == "match_recipient" and first is not None and second is None:
            filters.append(Filter(name, _pattern(first)))
        elif name == "match_header" and first is not None and second is not None:
            filters.append(Filter(name, _pattern(second), first.strip()))
        else:
            raise RouteError(term.strip())
    return Expression(tuple(filters))


def _destination(text: str) -> str:
    value = text.strip()
    if value.startswith(("http://", "https://")) or re.fullmatch(r"[^@\s]+@[^@\s]+", value):
        return value
    raise RouteError(f"not a URL or an email address: {value!r}")


def parse_action(text: str) -> Action:
    store = _NOTIFY.fullmatch(text)
    if store is not None:
        notify = _argument(store, 1)
        return Action("store", (_destination(notify),) if notify else ())
    call = _CALL.fullmatch(text)
    if call is None or _argument(call, 4) is not None:
        raise RouteError(text.strip())
    name, argument = call.group(1), _argument(call, 2)
    if name == "stop" and argument is None:
        return Action("stop")
    if name == "forward" and argument and argument.strip():
        return Action("forward", tuple(_destination(d) for d in argument.split(",")))
    raise RouteError(text.strip())


@dataclass(frozen=True)
class Route:
    """A saved route, ready to evaluate (``id`` is the saved route's)."""

    id: str
    expression: Expression
    actions: tuple[Action, ...]

    @property
    def stops(self) -> bool:
        return any(a.kind == "stop" for a in self.actions)


def evaluate(
    routes: Sequence[Route], recipient: str, headers: HeaderValues
) -> Iterator[tuple[Route, list[re.Match[str]]]]:
    """The routes that fire for one recipient, in order, with their captures: every matching
    route (not only the first), a ``catch_all()`` only when none before it matched, and none
    after one whose actions include ``stop()``."""
    matched = False
    for route in routes:
        if route.expression.catch_all and matched:
            continue
        captures = route.expression.match(recipient, headers)
        if captures is None:
            continue
        matched = True
        yield route, captures
        if route.stops:
            return
