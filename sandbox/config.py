"""Settings: the one configuration object, built once and passed down.

Precedence is CLI flag > environment variable ``MAILSANDBOX_<NAME>`` > default. Every field
declares its own flag and help text, so the CLI (``mailsandbox.cli``) and the environment reader
below are generated from this one table and can never drift apart.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mailsandbox.inbox_rules import InboxRule

ENV_PREFIX = "MAILSANDBOX_"
DATABASE_SCHEMES = ("postgresql", "postgres")  # --db URLs (libpq's two spellings)


def _opt(
    help: str,
    *,
    flag: str | None = None,
    repeat: bool = False,
    metavar: str | None = None,
    env_sep: str = ",",
) -> dict[str, Any]:
    """A field's flag; ``env_sep`` separates a repeatable flag's values in its env variable."""
    return {"help": help, "flag": flag, "repeat": repeat, "metavar": metavar, "env_sep": env_sep}


RELAY_TLS_MODES = ("none", "starttls", "tls")
RELAY_OPTIONS = (
    "relay_auth",
    "relay_tls",
    "relay_tls_ca",
    "relay_from",
    "relay_allow",
    "relay_match",
)


def _flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


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


def parse_scope(value: str) -> tuple[str, frozenset[str]]:
    """Parse ``USER=INBOX,INBOX`` (``--inbox-scope``)."""
    user, sep, listed = value.partition("=")
    inboxes = frozenset(name.strip() for name in listed.split(",") if name.strip())
    if not sep or not user.strip() or not inboxes:
        raise ValueError(f"--inbox-scope: expected USER=INBOX,INBOX, got {value!r}")
    return user.strip(), inboxes


def parse_credentials(value: str) -> tuple[str, str]:
    """Parse ``USER:PASS`` (the password may itself contain colons)."""
    user, sep, password = value.partition(":")
    if not sep or not user:
        raise ValueError(f"expected USER:PASS, got {value!r}")
    return (user, password)


def parse_allowed_host(value: str) -> str:
    """A ``--allow-host`` value: a host name or address without scheme, port or path (or ``*``),
    lower-cased, without a trailing dot."""
    host = value.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:  # only an IPv6 address may have one: a port is not part of a host name
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            host = ""
    if host != "*" and (not host or not re.fullmatch(r"[a-z0-9._:-]+", host) or ".." in host):
        raise ValueError(
            f"--allow-host expects a host name like mail.test (no scheme or port), got {value!r}"
        )
    return host


def parse_origin(value: str) -> str:
    """A ``--allow-origin`` value, ``scheme://host[:port]``, normalised as browsers send it."""
    match = re.fullmatch(r"\s*(https?)://([^/?#@\s]+?)/?\s*", value, re.IGNORECASE)
    if not match:
        raise ValueError(
            f"--allow-origin expects an origin like http://localhost:3000, got {value!r}"
        )
    return f"{match.group(1).lower()}://{match.group(2).lower()}"


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
    http_tls: str = field(
        default="off",
        metadata=_opt(
            "serve the UI and APIs over HTTPS: off, or self-signed (the certificate kept beside"
            " the database, shared with SMTP and POP3); --http-tls-cert/--http-tls-key use yours",
            metavar="MODE",
        ),
    )
    http_tls_cert: str = field(
        default="", metadata=_opt("PEM certificate for HTTPS (turns HTTPS on)", metavar="PATH")
    )
    http_tls_key: str = field(
        default="", metadata=_opt("PEM private key for --http-tls-cert", metavar="PATH")
    )
    db: str = field(
        default="./mailsandbox.db",
        metadata=_opt(
            "SQLite database file, or a postgresql:// URL: team mode, where any number of"
            " replicas share one database (docs/team.md)",
            metavar="PATH|URL",
        ),
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
    smtp_tls: str = field(
        default="off",
        metadata=_opt(
            "offer STARTTLS (and allow --smtps): off, or self-signed to generate a certificate "
            "for localhost kept beside the database; --smtp-tls-cert/--smtp-tls-key use yours",
            metavar="MODE",
        ),
    )
    smtp_tls_cert: str = field(
        default="",
        metadata=_opt("PEM certificate for STARTTLS/SMTPS (turns TLS on)", metavar="PATH"),
    )
    smtp_tls_key: str = field(
        default="", metadata=_opt("PEM private key for --smtp-tls-cert", metavar="PATH")
    )
    smtp_require_tls: bool = field(
        default=False,
        metadata=_opt("refuse every command but EHLO, STARTTLS, NOOP, QUIT before STARTTLS (530)"),
    )
    smtps: str = field(
        default="",
        metadata=_opt(
            "also listen with implicit TLS (off by default; needs TLS configured)",
            metavar="HOST:PORT",
        ),
    )
    smtp_max_size: int = field(
        default=50 * 1024 * 1024, metadata=_opt("largest accepted message in bytes (552 above)")
    )
    smtp_max_recipients: int = field(
        default=1000, metadata=_opt("most recipients per message (452 above)")
    )
    smtp_timeout: float = field(default=300.0, metadata=_opt("SMTP idle timeout in seconds"))
    smtp_max_connections: int = field(
        default=200,
        metadata=_opt("most SMTP connections open at once; more get 421 (0 = unlimited)"),
    )
    smtp_hostname: str = field(
        default="mailsandbox", metadata=_opt("host name the SMTP server greets with")
    )
    ui_auth: list[str] = field(
        default_factory=list,
        metadata=_opt(
            "require HTTP basic auth for the UI and API: a login (repeatable; also POP3's)",
            repeat=True,
            metavar="USER:PASS",
        ),
    )
    inbox_scope: list[str] = field(
        default_factory=list,
        metadata=_opt(
            "limit a login to these inboxes in the UI, the API, the feeds and POP3 (repeatable;"
            " a login without one sees all; env entries separated by ;)",
            repeat=True,
            metavar="USER=INBOX,INBOX",
            env_sep=";",
        ),
    )
    allow_host: list[str] = field(
        default_factory=list,
        metadata=_opt(
            "also answer to this Host name (repeatable; localhost and IP addresses always work,"
            " * accepts any name)",
            repeat=True,
            metavar="HOST",
        ),
    )
    allow_origin: list[str] = field(
        default_factory=list,
        metadata=_opt(
            "let web pages from this origin call the API (repeatable), e.g. http://localhost:3000",
            repeat=True,
            metavar="ORIGIN",
        ),
    )
    http_max_connections: int = field(
        default=500, metadata=_opt("most open HTTP connections; more are closed at once")
    )
    http_header_timeout: float = field(
        default=10.0, metadata=_opt("seconds a client may take to send a request's headers")
    )
    http_body_timeout: float = field(
        default=30.0,
        metadata=_opt("seconds a request body may stall before the connection is closed"),
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
    spamassassin: str = field(
        default="",
        metadata=_opt(
            "SpamAssassin spamd for the spam-score check (sa-check); off without it",
            metavar="HOST:PORT",
        ),
    )
    allow_internal_http_requests: bool = field(
        default=False,
        metadata=_opt(
            "let the link check reach private and reserved addresses (loopback always can)"
        ),
    )
    plus_tags: bool = field(
        default=True,
        metadata=_opt(
            "tag mail sent to user+TAG@ addresses with TAG (--no-plus-tags turns it off,"
            " as Mailpit's --tags-disable plus-addresses)"
        ),
    )
    pop3: str = field(
        default="",
        metadata=_opt(
            "also serve the stored mail over POP3 here (off by default)", metavar="HOST:PORT"
        ),
    )
    pop3s: str = field(
        default="",
        metadata=_opt(
            "also serve POP3 with implicit TLS here (needs POP3 TLS)", metavar="HOST:PORT"
        ),
    )
    pop3_auth: list[str] = field(
        default_factory=list,
        metadata=_opt(
            "a POP3-only login (repeatable); POP3 also takes the --ui-auth logins, and any login"
            " when neither is given",
            repeat=True,
            metavar="USER:PASS",
        ),
    )
    pop3_tls: str = field(
        default="off",
        metadata=_opt(
            "offer STLS (and allow --pop3s): off, or self-signed (the certificate kept beside"
            " the database); --pop3-tls-cert/--pop3-tls-key use yours",
            metavar="MODE",
        ),
    )
    pop3_tls_cert: str = field(
        default="", metadata=_opt("PEM certificate for STLS/POP3S (turns TLS on)", metavar="PATH")
    )
    pop3_tls_key: str = field(
        default="", metadata=_opt("PEM private key for --pop3-tls-cert", metavar="PATH")
    )
    inbox_rule: list[str] = field(
        default_factory=list,
        metadata=_opt(
            "put mail that neither an X-Sandbox-Inbox header nor credentials place into this"
            " inbox (repeatable; first match wins), e.g. 'to:*@tenant-a.test=tenant-a'",
            repeat=True,
            metavar="FIELD:PATTERN=INBOX",
        ),
    )
    relay_host: str = field(
        default="",
        metadata=_opt(
            "upstream SMTP server that releases (and --relay-match) send to", metavar="HOST:PORT"
        ),
    )
    relay_auth: str = field(
        default="", metadata=_opt("log in to the relay server as this user", metavar="USER:PASS")
    )
    relay_tls: str = field(
        default="none",
        metadata=_opt(
            "TLS to the relay server: none, starttls (required) or tls (implicit)", metavar="MODE"
        ),
    )
    relay_tls_ca: str = field(
        default="",
        metadata=_opt(
            "PEM file of certificates to trust for the relay server (default: the system's)",
            metavar="PATH",
        ),
    )
    relay_from: str = field(
        default="",
        metadata=_opt("envelope sender of relayed mail (default: the message's)", metavar="ADDR"),
    )
    relay_allow: str = field(
        default="",
        metadata=_opt("only relay to recipients matching this regular expression", metavar="REGEX"),
    )
    relay_match: str = field(
        default="",
        metadata=_opt(
            "relay every new message matching this search to its envelope recipients",
            metavar="QUERY",
        ),
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
    def smtp_tls_enabled(self) -> bool:
        """Whether STARTTLS is offered (and SMTPS possible): only when asked for."""
        return self.tls_enabled("smtp")

    @property
    def pop3_credentials(self) -> dict[str, str]:
        """POP3-only logins (``--pop3-auth``)."""
        return dict(parse_credentials(c) for c in self.pop3_auth)

    @property
    def database_url(self) -> str | None:
        """The ``--db`` URL (team mode), or None for a SQLite file. A value with ``://`` is
        never taken for a file name."""
        return self.db if "://" in self.db else None

    @property
    def spamassassin_address(self) -> tuple[str, int] | None:
        return parse_hostport(self.spamassassin) if self.spamassassin else None

    @property
    def db_path(self) -> Path:
        """The SQLite file (SQLite mode only)."""
        assert self.database_url is None, "a database URL has no file"
        return Path(self.db).expanduser()

    @property
    def data_dir(self) -> Path:
        """Where files that belong with the database live (the self-signed TLS pair): beside
        the SQLite file; with a database URL, the current directory."""
        if self.database_url is not None:
            return Path.cwd()
        return self.db_path.resolve().parent

    @property
    def smtp_credentials(self) -> dict[str, str]:
        return dict(parse_credentials(c) for c in self.smtp_auth)

    @property
    def ui_logins(self) -> list[tuple[str, str]]:
        """The ``--ui-auth`` logins, in order (empty: the UI and API are open)."""
        return [parse_credentials(c) for c in self.ui_auth]

    @property
    def inbox_scopes(self) -> dict[str, frozenset[str]]:
        """``--inbox-scope``: the inboxes each scoped login may see."""
        scopes: dict[str, frozenset[str]] = {}
        for entry in self.inbox_scope:
            user, inboxes = parse_scope(entry)
            scopes[user] = scopes.get(user, frozenset()) | inboxes
        return scopes

    def __post_init__(self) -> None:
        if isinstance(self.ui_auth, str):  # one login, as it used to be given in code
            self.ui_auth = [self.ui_auth] if self.ui_auth else []

    def validate(self) -> None:
        """Fail fast, with the flag's name, on values that cannot work."""
        for name in ("smtp", "http", "smtps"):
            value = getattr(self, name)
            if value or name != "smtps":
                try:
                    parse_hostport(value)
                except ValueError as exc:
                    raise ValueError(f"--{name}: {exc}") from None
        if self.spamassassin:
            try:
                parse_hostport(self.spamassassin)
            except ValueError as exc:
                raise ValueError(f"--spamassassin: {exc}") from None
        for cred in self.smtp_auth:
            parse_credentials(cred)
        for cred in self.ui_auth:
            parse_credentials(cred)
        logins = {user for user, _ in self.ui_logins} | set(self.pop3_credentials)
        for user in self.inbox_scopes:
            if user not in logins:
                raise ValueError(
                    f"--inbox-scope {user}=…: no such login (add --ui-auth {user}:PASS"
                    f" or --pop3-auth {user}:PASS)"
                )
        if self.database_url is not None:
            scheme = self.database_url.split("://", 1)[0].lower()
            if scheme not in DATABASE_SCHEMES:
                raise ValueError(
                    f"--db {scheme}:// is not a database this supports: give a SQLite file"
                    " path or a postgresql:// URL"
                )
        self._validate_tls(
            "smtp", ("--smtps", self.smtps), ("--smtp-require-tls", self.smtp_require_tls)
        )
        self._validate_pop3()
        self._validate_tls("http")
        if self.max_messages < 0:
            raise ValueError("--max-messages must be 0 or more")
        if self.max_age:
            parse_duration(self.max_age)
        if self.smtp_max_size < 0 or self.smtp_max_recipients < 1 or self.smtp_timeout <= 0:
            raise ValueError("SMTP limits must be positive")
        if self.smtp_max_connections < 0:
            raise ValueError("--smtp-max-connections must be 0 (unlimited) or more")
        self._validate_relay()
        for rule in self.inbox_rule:
            InboxRule.parse(rule)
        for host in self.allow_host:
            parse_allowed_host(host)
        for origin in self.allow_origin:
            parse_origin(origin)
        if self.http_max_connections < 1:
            raise ValueError("--http-max-connections must be 1 or more")
        if self.http_header_timeout <= 0 or self.http_body_timeout <= 0:
            raise ValueError("--http-header-timeout and --http-body-timeout must be positive")
        if self.resend_webhook_secret:
            parse_whsec(self.resend_webhook_secret)
        for url in self.resend_webhook_url:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"--resend-webhook-url must be an http(s) URL, got {url!r}")
        if self.log_level.lower() not in {"debug", "info", "warning", "error"}:
            raise ValueError(f"unknown --log-level {self.log_level!r}")

    def tls_enabled(self, service: str) -> bool:
        """Whether ``service`` (smtp, pop3, http) has TLS: only when asked for."""
        return bool(getattr(self, f"{service}_tls_cert")) or getattr(self, f"{service}_tls") == (
            "self-signed"
        )

    def _validate_tls(self, service: str, *needing: tuple[str, object]) -> None:
        """``--SERVICE-tls``, ``--SERVICE-tls-cert/-key``, and the flags that need one of them."""
        mode, cert, key = (getattr(self, f"{service}_tls{x}") for x in ("", "_cert", "_key"))
        if bool(cert) != bool(key):
            raise ValueError(f"--{service}-tls-cert and --{service}-tls-key go together")
        if mode not in {"off", "self-signed"}:
            raise ValueError(f"--{service}-tls is off or self-signed, not {mode!r}")
        if mode == "self-signed" and cert:
            raise ValueError(
                f"give --{service}-tls self-signed or --{service}-tls-cert/--{service}-tls-key,"
                " not both"
            )
        for flag, wanted in needing:
            if wanted and not self.tls_enabled(service):
                raise ValueError(
                    f"{flag} needs TLS: add --{service}-tls self-signed, "
                    f"or --{service}-tls-cert and --{service}-tls-key"
                )

    def _validate_pop3(self) -> None:
        for name in ("pop3", "pop3s"):
            if getattr(self, name):
                parse_hostport(getattr(self, name))
        for cred in self.pop3_auth:
            parse_credentials(cred)
        self._validate_tls("pop3", ("--pop3s", self.pop3s))
        unused = [n for n in ("pop3_auth", "pop3_tls_cert") if getattr(self, n)]
        if self.pop3_tls != "off":
            unused.append("pop3_tls")
        if unused and not (self.pop3 or self.pop3s):
            raise ValueError(f"{_flag_name(unused[0])} needs --pop3 (or --pop3s)")

    def _validate_relay(self) -> None:
        if not self.relay_host:
            given = [n for n in RELAY_OPTIONS if getattr(self, n) not in ("", "none")]
            if given:
                raise ValueError(f"{_flag_name(given[0])} needs --relay-host")
            return
        if ":" not in self.relay_host:
            raise ValueError(f"--relay-host: expected HOST:PORT, got {self.relay_host!r}")
        parse_hostport(self.relay_host)
        if self.relay_auth:
            parse_credentials(self.relay_auth)
        if self.relay_tls not in RELAY_TLS_MODES:
            raise ValueError(f"--relay-tls is none, starttls or tls, not {self.relay_tls!r}")
        if self.relay_from and "@" not in self.relay_from:
            raise ValueError(f"--relay-from: not an address: {self.relay_from!r}")
        if self.relay_allow:
            try:
                re.compile(self.relay_allow)
            except re.error as exc:
                raise ValueError(f"--relay-allow: bad regular expression: {exc}") from None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then ``MAILSANDBOX_*`` variables, then explicit overrides."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            name = ENV_PREFIX + f.name.upper()
            raw = environ.get(name)
            if raw is None:
                continue
            try:
                values[f.name] = _coerce(f, raw)
            except ValueError:
                raise ValueError(f"{name}={raw!r} is not a number") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)
        settings.validate()
        return settings


def _coerce(f: dataclasses.Field[Any], raw: str) -> Any:
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    if kind.startswith("list"):
        separator = f.metadata.get("env_sep", ",")
        return [item.strip() for item in raw.split(separator) if item.strip()]
    if kind == "int":
        return int(raw)
    if kind == "float":
        return float(raw)
    if kind == "bool":
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    return raw


def setting_fields() -> list[dataclasses.Field[Any]]:
    return list(dataclasses.fields(Settings))
