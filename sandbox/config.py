"""Settings: the one configuration object, built once and passed down.

Precedence is CLI flag > environment variable ``MAILSANDBOX_<NAME>`` > default. Every field
declares its own flag and help text, so the CLI (``mailsandbox.cli``) and the environment reader
below are generated from this one table and can never drift apart.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_PREFIX = "MAILSANDBOX_"


def _opt(
    help: str, *, flag: str | None = None, repeat: bool = False, metavar: str | None = None
) -> dict[str, Any]:
    return {"help": help, "flag": flag, "repeat": repeat, "metavar": metavar}


def parse_hostport(value: str, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """Parse ``HOST:PORT``, ``:PORT`` or ``PORT`` (IPv6 as ``[::1]:PORT``)."""
    value = value.strip()
    if value.startswith("["):
        host, _, port = value[1:].partition("]:")
    elif ":" in value:
        host, _, port = value.rpartition(":")
    else:
        host, port = "", value
    try:
        port_number = int(port)
    except ValueError:
        raise ValueError(f"expected HOST:PORT, got {value!r}") from None
    if not 0 <= port_number <= 65535:
        raise ValueError(f"port out of range in {value!r}")
    return (host or default_host, port_number)


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``5m``, ``12h``, ``7d`` → seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if not match:
        raise ValueError(f"not a duration: {text!r}")
    number, unit = float(match.group(1)), match.group(2) or "s"
    return number * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]


def parse_credentials(value: str) -> tuple[str, str]:
    """Parse ``USER:PASS`` (the password may itself contain colons)."""
    user, sep, password = value.partition(":")
    if not sep or not user:
        raise ValueError(f"expected USER:PASS, got {value!r}")
    return (user, password)


def parse_whsec(secret: str) -> bytes:
    """The key of a Svix/Resend signing secret ``whsec_<base64>``."""
    prefix, _, encoded = secret.partition("_")
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if prefix != "whsec" or not key:
        raise ValueError(f"expected a whsec_<base64> secret, got {secret!r}")
    return key


@dataclass
class Settings:
    """Everything the process can be told. Field metadata drives the CLI and the env reader."""

    smtp: str = field(
        default="127.0.0.1:1025", metadata=_opt("SMTP listen address", metavar="HOST:PORT")
    )
    http: str = field(
        default="127.0.0.1:8025",
        metadata=_opt("HTTP (UI, REST API, ESP APIs) listen address", metavar="HOST:PORT"),
    )
    db: str = field(
        default="./mailsandbox.db", metadata=_opt("SQLite database file", metavar="PATH")
    )
    max_messages: int = field(
        default=10000, metadata=_opt("keep at most N messages, oldest pruned (0 = unlimited)")
    )
    max_age: str = field(
        default="", metadata=_opt("prune messages older than this (e.g. 7d, 12h; empty = never)")
    )
    smtp_auth: list[str] = field(
        default_factory=list,
        metadata=_opt(
            "accept only these SMTP credentials (repeatable); without it any are accepted",
            repeat=True,
            metavar="USER:PASS",
        ),
    )
    smtp_tls_cert: str = field(
        default="", metadata=_opt("PEM certificate for STARTTLS/SMTPS (default: self-signed)")
    )
    smtp_tls_key: str = field(default="", metadata=_opt("PEM private key for --smtp-tls-cert"))
    smtps: str = field(
        default="",
        metadata=_opt("also listen with implicit TLS (off by default)", metavar="HOST:PORT"),
    )
    smtp_max_size: int = field(
        default=50 * 1024 * 1024, metadata=_opt("largest accepted message in bytes (552 above)")
    )
    smtp_max_recipients: int = field(
        default=1000, metadata=_opt("most recipients per message (452 above)")
    )
    smtp_timeout: float = field(default=300.0, metadata=_opt("SMTP idle timeout in seconds"))
    smtp_hostname: str = field(
        default="mailsandbox", metadata=_opt("host name the SMTP server greets with")
    )
    ui_auth: str = field(
        default="", metadata=_opt("require HTTP basic auth for the UI and API", metavar="USER:PASS")
    )
    sendgrid_api_key: list[str] = field(
        default_factory=list,
        metadata=_opt("accept only these SendGrid API keys (repeatable)", repeat=True),
    )
    sendgrid_rate_limit: str = field(
        default="", metadata=_opt("simulate a SendGrid rate limit, e.g. 10/s", metavar="N/s")
    )
    mailgun_api_key: list[str] = field(
        default_factory=list,
        metadata=_opt("accept only these Mailgun API keys (repeatable)", repeat=True),
    )
    mailgun_domain: list[str] = field(
        default_factory=list,
        metadata=_opt("accept only these Mailgun sending domains (repeatable)", repeat=True),
    )
    mailgun_webhook_signing_key: str = field(
        default="", metadata=_opt("Mailgun webhook HMAC signing key (default: generated, kept)")
    )
    ses_access_key: list[str] = field(
        default_factory=list,
        metadata=_opt(
            "accept only these AWS access key ids for SES and SNS (repeatable)",
            repeat=True,
            metavar="KEY_ID",
        ),
    )
    postmark_server_token: list[str] = field(
        default_factory=list,
        metadata=_opt(
            "accept only these Postmark server tokens (repeatable; POSTMARK_API_TEST always"
            " works, as Postmark's test token)",
            repeat=True,
            metavar="TOKEN",
        ),
    )
    resend_api_key: list[str] = field(
        default_factory=list,
        metadata=_opt("accept only these Resend API keys (repeatable)", repeat=True),
    )
    resend_webhook_url: list[str] = field(
        default_factory=list,
        metadata=_opt(
            "POST every Resend email event here, Svix-signed (repeatable)",
            repeat=True,
            metavar="URL",
        ),
    )
    resend_webhook_secret: str = field(
        default="",
        metadata=_opt(
            "signing secret of the --resend-webhook-url webhooks (default: generated, kept)",
            metavar="whsec_...",
        ),
    )
    webhook_url: list[str] = field(
        default_factory=list,
        metadata=_opt("POST a JSON summary of each new message here (repeatable)", repeat=True),
    )
    webhook_retry_schedule: str = field(
        default="1s,2s,5s,10s,30s,1m,5m",
        metadata=_opt("webhook retry delays; the last one repeats", metavar="LIST"),
    )
    rules_file: str = field(
        default="",
        metadata=_opt("JSON file of delivery/SMTP rules loaded at start", metavar="PATH"),
    )
    log_level: str = field(default="info", metadata=_opt("debug, info, warning or error"))

    # --- derived views -------------------------------------------------------------
    @property
    def smtp_address(self) -> tuple[str, int]:
        return parse_hostport(self.smtp)

    @property
    def http_address(self) -> tuple[str, int]:
        return parse_hostport(self.http)

    @property
    def smtps_address(self) -> tuple[str, int] | None:
        return parse_hostport(self.smtps) if self.smtps else None

    @property
    def db_path(self) -> Path:
        return Path(self.db).expanduser()

    @property
    def data_dir(self) -> Path:
        """Where files that belong with the database live (TLS pair, signing keys)."""
        return self.db_path.resolve().parent

    @property
    def smtp_credentials(self) -> dict[str, str]:
        return dict(parse_credentials(c) for c in self.smtp_auth)

    @property
    def ui_credentials(self) -> tuple[str, str] | None:
        return parse_credentials(self.ui_auth) if self.ui_auth else None

    def validate(self) -> None:
        """Fail fast, with the flag's name, on values that cannot work."""
        for name in ("smtp", "http"):
            parse_hostport(getattr(self, name))
        if self.smtps:
            parse_hostport(self.smtps)
        for cred in self.smtp_auth:
            parse_credentials(cred)
        if self.ui_auth:
            parse_credentials(self.ui_auth)
        if bool(self.smtp_tls_cert) != bool(self.smtp_tls_key):
            raise ValueError("--smtp-tls-cert and --smtp-tls-key go together")
        if self.max_messages < 0:
            raise ValueError("--max-messages must be 0 or more")
        if self.max_age:
            parse_duration(self.max_age)
        if self.smtp_max_size < 0 or self.smtp_max_recipients < 1 or self.smtp_timeout <= 0:
            raise ValueError("SMTP limits must be positive")
        if self.resend_webhook_secret:
            parse_whsec(self.resend_webhook_secret)
        for url in self.resend_webhook_url:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"--resend-webhook-url must be an http(s) URL, got {url!r}")
        if self.log_level.lower() not in {"debug", "info", "warning", "error"}:
            raise ValueError(f"unknown --log-level {self.log_level!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then ``MAILSANDBOX_*`` variables, then explicit overrides."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is None:
                continue
            values[f.name] = _coerce(f, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)
        settings.validate()
        return settings


def _coerce(f: dataclasses.Field[Any], raw: str) -> Any:
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    if kind.startswith("list"):
        return [item.strip() for item in raw.split(",") if item.strip()]
    if kind == "int":
        return int(raw)
    if kind == "float":
        return float(raw)
    if kind == "bool":
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    return raw


def setting_fields() -> list[dataclasses.Field[Any]]:
    return list(dataclasses.fields(Settings))
