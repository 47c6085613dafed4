"""Built-in magic recipients: plus-tags (``alice+bounce@example.com``) and the Amazon SES mailbox
simulator names (``bounce@simulator.amazonses.com``).

``reject`` as a plus-tag or as the local part's first segment (``reject+x@``) refuses the
recipient: 550 at RCPT over SMTP, a ``rejected`` event through the ESP APIs.
"""

from __future__ import annotations

from mailsandbox.events.rules import Rule

PLUS_TAGS: dict[str, str] = {
    "bounce": "bounced",
    "defer": "deferred",
    "complaint": "complained",
    "unsubscribe": "unsubscribed",
    "open": "opened",
    "click": "clicked",
    "reject": "rejected",
}

SES_DOMAIN = "simulator.amazonses.com"
SES_NAMES: dict[str, str] = {
    "success": "delivered",
    "ooto": "delivered",
    "bounce": "bounced",
    "complaint": "complained",
    "suppressionlist": "bounced",
}
REJECT_REPLY = "550 5.1.1 Recipient address rejected (mailsandbox magic address)"


def _split(address: str) -> tuple[list[str], str]:
    local, _, domain = address.strip().strip("<>").rpartition("@")
    return local.lower().split("+"), domain.lower()


def magic_rule(address: str) -> Rule | None:
    """The built-in rule for ``address``, or None for an ordinary recipient."""
    segments, domain = _split(address)
    if domain == SES_DOMAIN and segments[0] in SES_NAMES:
        name = segments[0]
        reason = "Address on the suppression list" if name == "suppressionlist" else ""
        return Rule(
            id=f"builtin:ses:{name}", outcome=SES_NAMES[name], reason=reason, origin="builtin"
        )
    if len(segments) < 2:
        return None
    if segments[0] == "reject":
        return Rule(id="builtin:reject", outcome="rejected", origin="builtin")
    tag = segments[-1]
    if tag in PLUS_TAGS:
        return Rule(id=f"builtin:{tag}", outcome=PLUS_TAGS[tag], origin="builtin")
    return None


def is_simulator(address: str) -> bool:
    """An address of the SES mailbox simulator (``bounce+label@simulator.amazonses.com``)."""
    return _split(address)[1] == SES_DOMAIN


def rejects_at_rcpt(address: str) -> bool:
    rule = magic_rule(address)
    return rule is not None and rule.outcome == "rejected"
