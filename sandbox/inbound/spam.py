"""The spam verdict inbound providers report (SendGrid ``spam_score``/``spam_report``, Mailgun
``X-Mailgun-Sflag``/``X-Mailgun-Sscore``). There is no filter here: every message scores 0.0
except one carrying GTUBE, SpamAssassin's own test string, which scores 1000 as it does there,
so an app's spam handling can be tested on purpose.
"""

from __future__ import annotations

GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
THRESHOLD = 5.0


def score(text: str, html: str) -> float:
    return 1000.0 if GTUBE in text or GTUBE in html else 0.0


def report(points: float, host: str = "mailsandbox") -> str:
    """A SpamAssassin-style report, as SendGrid posts it."""
    verdict = (
        "identified this incoming email as possible spam"
        if points >= THRESHOLD
        else ("NOT identified this incoming email as spam")
    )
    rules = (
        "1000 GTUBE                  BODY: Generic Test for Unsolicited Bulk Email\n"
        if points >= 1000
        else ""
    )
    return (
        f'Spam detection software, running on the system "{host}", has\n{verdict}.\n\n'
        f"Content analysis details:   ({points:.1f} points, {THRESHOLD:.1f} required)\n\n"
        " pts rule name              description\n"
        "---- ---------------------- --------------------------------------------------\n"
        f"{rules}"
    )
