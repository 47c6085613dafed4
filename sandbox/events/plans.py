"""Turn a delivery outcome into the timed steps of a recipient's lifecycle.

``bounced`` is one step; ``deferred`` is N deferrals on a short dev schedule then the final
outcome; engagement outcomes (opened, clicked, complained, unsubscribed) come after a
``delivered``. Offsets are seconds after accept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mailsandbox.events.rules import Rule

DELIVERY_DELAY = 0.05  # "delivered shortly after accept"
ENGAGEMENT_GAP = 0.2  # delivered → opened → clicked ...
DEFER_SCHEDULE = (1.0, 2.0, 5.0, 10.0, 30.0)  # between deferral attempts (dev-short)
DEFAULT_URL = "https://example.com/"

DEFAULTS: dict[str, tuple[str, int, dict[str, Any]]] = {
    "delivered": ("250 OK", 250, {}),
    "deferred": (
        "421 4.7.0 Temporary failure, try again later (simulated)",
        421,
        {"severity": "temporary", "status": "4.7.0"},
    ),
    "bounced": (
        "550 5.1.1 The email account that you tried to reach does not exist (simulated)",
        550,
        {"severity": "permanent", "status": "5.1.1", "bounce_type": "bounce"},
    ),
    "rejected": ("Invalid", 0, {"reject_reason": "invalid"}),
    "opened": ("", 0, {}),
    "clicked": ("", 0, {}),
    "complained": ("", 0, {}),
    "unsubscribed": ("", 0, {}),
    "subscribed": ("", 0, {}),
}


# "451 4.7.1 Try later": the SMTP reply code and the enhanced status code (RFC 3463)
_REPLY = re.compile(r"\s*([2-5]\d\d)(?:[ -]+([245]\.\d{1,3}\.\d{1,3}))?\b")
_REPLY_TYPES = ("delivered", "deferred", "bounced")


def reply_parts(text: str) -> tuple[int, str]:
    """The SMTP code and enhanced status a reply text starts with (0 and "" when it does not),
    e.g. ``"451 4.7.1 Greylisted"`` → ``(451, "4.7.1")``."""
    match = _REPLY.match(text)
    if match is None:
        return 0, ""
    return int(match.group(1)), match.group(2) or ""


@dataclass
class Step:
    type: str
    offset: float
    reason: str = ""
    code: int = 0
    details: dict[str, Any] = field(default_factory=dict)


def step(kind: str, offset: float, reason: str = "", code: int = 0, **details: Any) -> Step:
    """A step with the type's default reason, code and details. A ``reason`` that is an SMTP
    reply (``"451 4.7.1 Greylisted"``, from a rule or a manual trigger) also gives the step its
    code and enhanced ``status``, so what a provider reports matches the reply; ``code``
    overrides both."""
    default_reason, default_code, default_details = DEFAULTS[kind]
    merged = {**default_details, **details}
    reply_code, status = reply_parts(reason) if kind in _REPLY_TYPES else (0, "")
    if status:
        merged["status"] = status
    return Step(kind, offset, reason or default_reason, code or reply_code or default_code, merged)


def steps_for(rule: Rule) -> list[Step]:
    """The lifecycle a delivery rule asks for, starting ``rule.delay`` seconds after accept."""
    start = max(rule.delay, DELIVERY_DELAY) if rule.outcome != "rejected" else rule.delay
    outcome = rule.outcome
    if outcome == "rejected":
        return [step("rejected", start, rule.reason)]
    if outcome == "bounced":
        return [step("bounced", start, rule.reason, rule.code)]
    if outcome == "deferred":
        out, at = [], start
        for attempt in range(1, rule.attempts + 1):
            wait = DEFER_SCHEDULE[min(attempt - 1, len(DEFER_SCHEDULE) - 1)]
            out.append(
                step("deferred", at, rule.reason, rule.code, attempt=attempt, retry_seconds=wait)
            )
            at += wait
        final_reason = rule.reason if rule.then == "bounced" else ""
        out.append(step(rule.then, at, final_reason, attempt=rule.attempts + 1))
        return out
    out = [step("delivered", start)]
    at = start
    chain = {
        "opened": ["opened"],
        "clicked": ["opened", "clicked"],
        "complained": ["complained"],
        "unsubscribed": ["unsubscribed"],
    }.get(outcome, [])
    for kind in chain:
        at += ENGAGEMENT_GAP
        extra: dict[str, Any] = {"url": rule.url or DEFAULT_URL} if kind == "clicked" else {}
        out.append(step(kind, at, **extra))
    return out
