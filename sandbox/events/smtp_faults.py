"""SMTP fault injection: the rules engine answering at AUTH, MAIL, RCPT and DATA.

Installed as one of ``sandbox.smtp_handler.policy_hooks``. User rules of an SMTP stage come
first (with their probability and delay); then the built-in ``reject`` magic address refuses
the recipient at RCPT with 550.
"""

from __future__ import annotations

import asyncio
from email.parser import BytesHeaderParser
from typing import Any

from mailsandbox.events.magic import REJECT_REPLY, rejects_at_rcpt
from mailsandbox.events.rules import RuleBook
from mailsandbox.smtp.server import DISCONNECT, PolicyHook


def _subject(envelope: Any) -> str:
    content = getattr(envelope, "original_content", None) or getattr(envelope, "content", None)
    if not isinstance(content, bytes):
        return ""
    head = content.split(b"\r\n\r\n", 1)[0][:65536]
    return str(BytesHeaderParser().parsebytes(head).get("Subject", "") or "")


def policy_hook(rules: RuleBook) -> PolicyHook:
    async def hook(stage: str, context: dict[str, Any]) -> str | None:
        address = str(context.get("address") or "")
        if not rules.has_stage(stage):  # the usual case: no user rule; skip the context
            return REJECT_REPLY if stage == "RCPT" and rejects_at_rcpt(address) else None
        envelope = context.get("envelope")
        sender = address if stage == "MAIL" else str(getattr(envelope, "mail_from", "") or "")
        recipients = [address] if stage == "RCPT" else list(getattr(envelope, "rcpt_tos", []) or [])
        subject = _subject(envelope) if stage == "DATA" else ""
        for recipient in recipients or [""]:
            rule = rules.first(
                stage, recipient=recipient, sender=sender, subject=subject, source="smtp"
            )
            if rule is not None:
                if rule.delay:
                    await asyncio.sleep(rule.delay)
                return DISCONNECT if rule.reply.strip().lower() == "disconnect" else rule.reply
        if stage == "RCPT" and rejects_at_rcpt(address):
            return REJECT_REPLY
        return None

    return hook
