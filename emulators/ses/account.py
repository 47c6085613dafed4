"""Account-wide SES settings the sandbox honours, kept in memory and in ``ses_account``:
whether sending is enabled (``PutAccountSendingAttributes`` / v1
``UpdateAccountSendingEnabled``: paused sends get ``SendingPausedException``) and which
events add an address to the account-level suppression list (``BOUNCE`` and ``COMPLAINT`` by
default, as for new accounts; ``PutAccountSuppressionAttributes`` changes it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mailsandbox.emulators.ses import config_store
from mailsandbox.storage.sql import Connection

ACCOUNT = "ses.account"  # its sandbox.extensions key (and team topic)

SENDING = "sending_enabled"
SUPPRESSED = "suppressed_reasons"


@dataclass
class Account:
    sending_enabled: bool = True
    suppressed_reasons: list[str] = field(default_factory=lambda: ["BOUNCE", "COMPLAINT"])

    def load(self, conn: Connection) -> None:
        self.sending_enabled = bool(config_store.account(conn, SENDING, True))
        reasons = config_store.account(conn, SUPPRESSED, ["BOUNCE", "COMPLAINT"])
        self.suppressed_reasons = [str(r) for r in reasons]

    def save(self, conn: Connection) -> None:
        config_store.set_account(conn, SENDING, self.sending_enabled)
        config_store.set_account(conn, SUPPRESSED, self.suppressed_reasons)
