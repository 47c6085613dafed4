"""The relay's settings, read once from the ``--relay-*`` flags, and how ``/api/v1/webui``
describes them (Mailpit's ``MessageRelay`` object, spec §2.5 and §12.4)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mailsandbox.config import Settings, parse_credentials, parse_hostport
from mailsandbox.storage import search


@dataclass(frozen=True)
class RelayConfig:
    host: str
    port: int
    tls: str  # none | starttls | tls
    ca_file: str  # certificates to trust for the upstream ("" = the system's)
    username: str
    password: str
    sender: str  # envelope sender override ("" = the message's own)
    allow: re.Pattern[str] | None  # recipients that may be relayed to (None = any)
    match: str  # search query of the messages relayed as they arrive ("" = none)

    @classmethod
    def from_settings(cls, settings: Settings) -> RelayConfig | None:
        """The relay configuration, or None when no ``--relay-host`` is given."""
        if not settings.relay_host:
            return None
        host, port = parse_hostport(settings.relay_host)
        username, password = (
            parse_credentials(settings.relay_auth) if settings.relay_auth else ("", "")
        )
        if settings.relay_match.strip():
            try:
                search.compile_query(settings.relay_match)
            except search.SearchError as exc:
                raise ValueError(f"--relay-match: {exc}") from None
        return cls(
            host=host,
            port=port,
            tls=settings.relay_tls,
            ca_file=settings.relay_tls_ca,
            username=username,
            password=password,
            sender=settings.relay_from,
            allow=re.compile(settings.relay_allow) if settings.relay_allow else None,
            match=settings.relay_match.strip(),
        )

    @property
    def server(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def allowed(self, address: str) -> bool:
        """Whether ``--relay-allow`` lets mail go to ``address`` (Go's ``MatchString``: the
        expression may match anywhere in it; anchor it with ``^…$`` to match it whole)."""
        return self.allow is None or self.allow.search(address) is not None


def web_ui(config: RelayConfig | None) -> dict[str, Any]:
    """``MessageRelay`` of ``/api/v1/webui``: Mailpit's keys, all of them, always.

    ``--relay-from`` changes the envelope sender only, which is what Mailpit's ``ReturnPath``
    does to the envelope; ``RecipientAllowlist`` is Mailpit's deprecated copy of
    ``AllowedRecipients``.
    """
    allow = config.allow.pattern if config is not None and config.allow is not None else ""
    return {
        "Enabled": config is not None,
        "SMTPServer": config.server if config is not None else "",
        "ReturnPath": config.sender if config is not None else "",
        "AllowedRecipients": allow,
        "BlockedRecipients": "",
        "OverrideFrom": "",
        "PreserveMessageIDs": False,
        "RecipientAllowlist": allow,
    }
