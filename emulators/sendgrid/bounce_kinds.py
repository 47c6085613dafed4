"""What kind of bounce a reply makes, in SendGrid's terms: a ``bounce`` (the address is bad: on
the bounces list, later sends dropped) or a ``blocked`` one (the message was refused: on the
blocks list, which SendGrid does not treat as a suppression list), and its
``bounce_classification``.

The sandbox decides from the enhanced status code of the reply a rule or trigger supplied
(``"550 5.7.1 Rejected as spam"``); SendGrid's own classifier is not public, so this mapping is
the sandbox's choice, documented in docs/sendgrid.md:

- ``4.x.x`` (temporary) and ``5.7.x`` (security or policy) → ``blocked``; others → ``bounce``;
- classification by the status's subject (RFC 3463): ``x.1`` addressing → Invalid Address,
  ``x.2`` mailbox → Mailbox Unavailable, ``x.3``/``x.4``/``x.5`` system, network, protocol →
  Technical Failure, ``x.6`` content → Content, ``x.7`` policy → Reputation, else Unclassified.

The seven classification names are those of ``GET /v3/suppression/bounces/classifications``
(OpenAPI ``tsg_suppressions_v3``).
"""

from __future__ import annotations

from typing import Any

CLASSIFICATIONS = (
    "Content",
    "Frequency or Volume Too High",
    "Invalid Address",
    "Mailbox Unavailable",
    "Reputation",
    "Technical Failure",
    "Unclassified",
)
_BY_SUBJECT = {
    "1": "Invalid Address",
    "2": "Mailbox Unavailable",
    "3": "Technical Failure",
    "4": "Technical Failure",
    "5": "Technical Failure",
    "6": "Content",
    "7": "Reputation",
}
DEFAULT_STATUS = "5.1.1"


def status_of(details: dict[str, Any]) -> str:
    """The enhanced status code of a bounce event (``5.1.1`` when the reply gave none)."""
    return str(details.get("status") or DEFAULT_STATUS)


def bounce_type(details: dict[str, Any]) -> str:
    """``bounce`` or ``blocked`` (a rule may also say so with ``bounce_type``)."""
    given = details.get("bounce_type")
    if given == "blocked":
        return "blocked"
    status = status_of(details)
    return "blocked" if status.startswith(("4.", "5.7.")) else "bounce"


def classification(details: dict[str, Any]) -> str:
    parts = status_of(details).split(".")
    return _BY_SUBJECT.get(parts[1], "Unclassified") if len(parts) == 3 else "Unclassified"
