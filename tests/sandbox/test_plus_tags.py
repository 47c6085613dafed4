"""Tags from ``user+tag@`` addresses: on by default, off with ``--no-plus-tags`` (Mailpit's
``--tags-disable plus-addresses``), while ``X-Tags`` headers keep tagging either way."""

from __future__ import annotations

import smtplib
from collections.abc import Callable

import httpx
import pytest

from mailsandbox.cli import build_parser, settings_from_args
from mailsandbox.config import Settings
from mailsandbox.runner import RunningSandbox

MAIL = (
    "From: app@example.com\r\nTo: bob+bounce@example.com, carol+vip@example.com\r\n"
    "Subject: plus\r\nX-Tags: billing\r\n\r\nhi\r\n"
)


def tags_of_one_message(running: RunningSandbox) -> list[str]:
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=10) as client:
        client.sendmail("app@example.com", ["bob+bounce@example.com"], MAIL)
    with httpx.Client(base_url=running.url) as api:
        (message,) = api.get("/api/v1/messages").json()["messages"]
        return list(message["Tags"])


def test_plus_addresses_tag_by_default(sandbox_factory: Callable[..., RunningSandbox]) -> None:
    assert tags_of_one_message(sandbox_factory()) == ["billing", "bounce", "vip"]


def test_no_plus_tags_keeps_only_the_other_tags(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    assert tags_of_one_message(sandbox_factory(plus_tags=False)) == ["billing"]


@pytest.mark.parametrize(
    ("argv", "environ", "expected"),
    [
        ([], {}, True),
        (["--no-plus-tags"], {}, False),
        ([], {"MAILSANDBOX_PLUS_TAGS": "false"}, False),
        (["--plus-tags"], {"MAILSANDBOX_PLUS_TAGS": "0"}, True),  # the flag wins
    ],
)
def test_flag_and_environment(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], environ: dict[str, str], expected: bool
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    settings: Settings = settings_from_args(build_parser().parse_args(["serve", *argv]))
    assert settings.plus_tags is expected
