"""Settings: defaults, MAILSANDBOX_* variables, flags winning over them, validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailsandbox.cli import build_parser, settings_from_args
from mailsandbox.config import Settings, parse_credentials, parse_hostport


def test_defaults() -> None:
    settings = Settings.from_env(environ={})
    assert settings.smtp_address == ("127.0.0.1", 1025)
    assert settings.http_address == ("127.0.0.1", 8025)
    assert settings.max_messages == 10000
    assert settings.smtp_max_size == 50 * 1024 * 1024
    assert settings.smtp_max_recipients == 1000
    assert settings.smtps_address is None
    assert settings.smtp_credentials == {}
    assert settings.smtp_tls == "off" and not settings.smtp_tls_enabled
    assert not settings.smtp_require_tls
    assert settings.smtp_max_connections == 200


def test_environment_is_read_and_typed() -> None:
    settings = Settings.from_env(
        environ={
            "MAILSANDBOX_SMTP": "0.0.0.0:2525",
            "MAILSANDBOX_MAX_MESSAGES": "5",
            "MAILSANDBOX_SMTP_TIMEOUT": "2.5",
            "MAILSANDBOX_SMTP_AUTH": "a:1, b:2:3",
            "MAILSANDBOX_DB": "/data/x.db",
            "MAILSANDBOX_SMTP_TLS": "self-signed",
            "MAILSANDBOX_SMTP_REQUIRE_TLS": "true",
            "MAILSANDBOX_SMTPS": "127.0.0.1:2465",
            "MAILSANDBOX_SMTP_MAX_CONNECTIONS": "5",
        }
    )
    assert settings.smtp_address == ("0.0.0.0", 2525)
    assert settings.max_messages == 5
    assert settings.smtp_timeout == 2.5
    assert settings.smtp_credentials == {"a": "1", "b": "2:3"}
    assert settings.data_dir == Path("/data")
    assert settings.smtp_tls_enabled and settings.smtp_require_tls
    assert settings.smtps_address == ("127.0.0.1", 2465)
    assert settings.smtp_max_connections == 5


def test_flags_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILSANDBOX_MAX_MESSAGES", "5")
    monkeypatch.setenv("MAILSANDBOX_HTTP", "127.0.0.1:9000")
    args = build_parser().parse_args(["serve", "--max-messages", "7", "--smtp-auth", "u:p"])
    settings = settings_from_args(args)
    assert settings.max_messages == 7
    assert settings.http_address == ("127.0.0.1", 9000)
    assert settings.smtp_auth == ["u:p"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"smtp": "host:notaport"},
        {"http": "localhost:70000"},
        {"smtp_auth": ["nocolon"]},
        {"smtp_tls_cert": "cert.pem"},
        {"smtp_tls": "on"},
        {"smtps": "127.0.0.1:2465"},
        {"smtp_require_tls": True},
        {"smtp_tls": "self-signed", "smtp_tls_cert": "c.pem", "smtp_tls_key": "k.pem"},
        {"smtp_max_connections": -1},
        {"max_messages": -1},
        {"max_age": "a while"},
        {"smtp_max_recipients": 0},
        {"log_level": "loud"},
    ],
)
def test_invalid_values_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Settings.from_env(environ={}, **overrides)


def test_parsers() -> None:
    assert parse_hostport(":25") == ("127.0.0.1", 25)
    assert parse_hostport("[::1]:25") == ("::1", 25)
    assert parse_hostport("2525") == ("127.0.0.1", 2525)
    assert parse_credentials("user:pa:ss") == ("user", "pa:ss")
