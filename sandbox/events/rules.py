"""Outcome rules: what happens to a recipient after accept, and how SMTP answers at each stage.

A :class:`Rule` matches on recipient, sender, subject and source (shell-style globs,
case-insensitive; empty = any) and either decides a delivery ``outcome`` (stage ``delivery``)
or an SMTP reply at ``AUTH``/``MAIL``/``RCPT``/``DATA`` (a reply line such as
``"550 5.7.1 Go away"`` or ``"disconnect"``), with a ``probability`` (percent) and a ``delay``
(seconds). The :class:`RuleBook` holds the rules loaded from ``--rules-file`` plus the ones
added live through the API or UI; the first enabled rule that matches (and wins its dice roll)
decides. Built-in magic addresses (``mailsandbox.events.magic``) apply when no user rule does.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import random
import threading
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from mailsandbox import ids
from mailsandbox.storage import events

DELIVERY = "delivery"
SMTP_STAGES = ("AUTH", "MAIL", "RCPT", "DATA")
# Every delivery event type but ``queued``, which every accepted recipient starts as, and
# ``subscribed``, which only a removal from an unsubscribe group records.
OUTCOMES = tuple(kind for kind in events.TYPES if kind not in ("queued", "subscribed"))
FINAL_AFTER_DEFER = ("delivered", "bounced")


class RuleError(ValueError):
    """A rule definition that cannot be used (the message says why)."""


@dataclass
class Rule:
    id: str = ""
    name: str = ""
    stage: str = DELIVERY
    recipient: str = ""
    sender: str = ""
    subject: str = ""
    source: str = ""
    outcome: str = ""  # delivery stage
    reply: str = ""  # SMTP stages: "550 5.1.1 ..." or "disconnect"
    probability: float = 100.0  # percent
    delay: float = 0.0  # seconds
    reason: str = ""
    code: int = 0
    attempts: int = 2  # deferred: how many deferrals before ``then``
    then: str = "delivered"  # deferred: the final outcome
    url: str = ""  # clicked: the link
    enabled: bool = True
    origin: str = "api"  # api | file | builtin

    def matches(
        self, recipient: str = "", sender: str = "", subject: str = "", source: str = ""
    ) -> bool:
        pairs = (
            (self.recipient, recipient),
            (self.sender, sender),
            (self.subject, subject),
            (self.source, source),
        )
        return all(
            not pattern or fnmatch.fnmatchcase(value.lower(), pattern.lower())
            for pattern, value in pairs
        )

    def fires(self, rng: random.Random) -> bool:
        """Roll the dice: 100 always fires, 0 never."""
        if self.probability >= 100:
            return True
        return rng.random() * 100 < self.probability

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


_FIELDS = {f.name: f for f in fields(Rule)}


def _check(rule: Rule) -> Rule:
    if rule.stage not in (DELIVERY, *SMTP_STAGES):
        raise RuleError(f"stage must be one of delivery, {', '.join(SMTP_STAGES)}")
    if rule.stage == DELIVERY:
        if rule.outcome not in OUTCOMES:
            raise RuleError(f"outcome must be one of {', '.join(OUTCOMES)}")
        if rule.then not in FINAL_AFTER_DEFER:
            raise RuleError("then must be delivered or bounced")
    else:
        reply = rule.reply.strip()
        if reply.lower() != "disconnect" and not (
            len(reply) >= 3 and reply[:3].isdigit() and reply[0] in "45"
        ):
            raise RuleError(
                'reply must be a 4xx/5xx SMTP reply such as "550 5.7.1 No" or "disconnect"'
            )
    if not 0 <= rule.probability <= 100:
        raise RuleError("probability must be between 0 and 100")
    if rule.delay < 0 or rule.delay > 3600:
        raise RuleError("delay must be between 0 and 3600 seconds")
    if not 0 <= rule.attempts <= 20:
        raise RuleError("attempts must be between 0 and 20")
    return rule


def parse_rule(data: Any, origin: str = "api") -> Rule:
    """Build a validated rule from JSON; raises :class:`RuleError`."""
    if not isinstance(data, dict):
        raise RuleError("a rule must be a JSON object")
    unknown = sorted(set(data) - set(_FIELDS) - {"id", "origin"})
    if unknown:
        raise RuleError(f"unknown rule field(s): {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name in ("id", "origin"):
            continue
        default = getattr(Rule(), name)
        try:
            if isinstance(default, bool):
                if not isinstance(value, bool):
                    raise TypeError
                values[name] = value
            elif isinstance(default, (int, float)):
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise TypeError
                values[name] = type(default)(value)
            else:
                values[name] = str(value)
        except (TypeError, ValueError):
            raise RuleError(f"{name}: wrong type") from None
    rule = Rule(**values)
    rule.stage = rule.stage if rule.stage == DELIVERY else rule.stage.upper()
    rule.id = ids.new_id()
    rule.origin = origin
    return _check(rule)


def load_file(path: Path) -> list[Rule]:
    """Rules from a JSON file: a list, or ``{"rules": [...]}``."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise RuleError(f"cannot read rules file {path}: {exc}") from None
    items = data.get("rules") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise RuleError(f"{path}: expected a list of rules")
    return [parse_rule(item, origin="file") for item in items]


class RuleBook:
    """The live set of user rules (thread-safe: read by the DB writer thread and SMTP)."""

    def __init__(self, rules: list[Rule] | None = None, seed: int | None = None) -> None:
        self._rules: list[Rule] = list(rules or [])
        self._lock = threading.Lock()
        self.rng = random.Random(seed)

    def all(self) -> list[Rule]:
        return list(self._rules)

    def add(self, rule: Rule) -> Rule:
        with self._lock:
            self._rules = [*self._rules, rule]
        return rule

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            kept = [r for r in self._rules if r.id != rule_id]
            found = len(kept) != len(self._rules)
            self._rules = kept
        return found

    def set_enabled(self, rule_id: str, enabled: bool) -> Rule | None:
        """Turn a rule on or off (a disabled rule is kept but never matches); None if unknown."""
        with self._lock:
            changed = [
                dataclasses.replace(r, enabled=enabled) if r.id == rule_id else r
                for r in self._rules
            ]
            self._rules = changed
        return next((r for r in changed if r.id == rule_id), None)

    def move(self, rule_id: str, position: int) -> list[Rule] | None:
        """Put a rule at ``position`` (0-based, in :meth:`all`'s order) and return the new
        order; None if unknown. Rules keep to their origin's block: the ``--rules-file`` rules
        come first, then the live ones; each moves among its own (``position`` is clamped to
        the block). Only live rules are stored, so a file rule's place lasts until restart."""
        with self._lock:
            rules = list(self._rules)
            index = next((i for i, r in enumerate(rules) if r.id == rule_id), None)
            if index is None:
                return None
            rule = rules.pop(index)
            block = [i for i, r in enumerate(rules) if r.origin == rule.origin]
            low, high = (block[0], block[-1] + 1) if block else (index, index)
            rules.insert(min(max(position, low), high), rule)
            self._rules = rules
        return list(rules)

    def replace_live(self, stored: list[Rule]) -> None:
        """Put ``stored`` (the live rules, as the database has them) in place of the live
        rules, after the ``--rules-file`` ones (team mode: another replica changed them)."""
        with self._lock:
            self._rules = [*(r for r in self._rules if r.origin == "file"), *stored]

    def has_stage(self, stage: str) -> bool:
        """Whether any enabled rule acts at ``stage`` (lets callers skip building a context)."""
        return any(rule.enabled and rule.stage == stage for rule in self._rules)

    def first(self, stage: str, **context: str) -> Rule | None:
        """The first enabled rule of ``stage`` matching ``context`` whose dice roll fires."""
        for rule in self._rules:
            if rule.enabled and rule.stage == stage and rule.matches(**context):
                with self._lock:
                    fired = rule.fires(self.rng)
                if fired:
                    return rule
        return None
