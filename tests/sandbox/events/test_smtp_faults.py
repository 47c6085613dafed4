"""SMTP fault injection through rules, with a real smtplib client: a reply code at each stage,
probability 0 and 100, delays, disconnects and the built-in ``reject`` magic address."""

from __future__ import annotations

import base64
import smtplib
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mailsandbox.runner import RunningSandbox
from tests.sandbox.smtp.helpers import read_replies

MESSAGE = b"From: app@example.com\r\nTo: bob@example.com\r\nSubject: Chaos\r\n\r\nHi.\r\n"


@pytest.fixture
def api(shared_api: httpx.Client) -> httpx.Client:
    return shared_api


@pytest.fixture
def client(shared_running: RunningSandbox) -> Iterator[smtplib.SMTP]:
    with smtplib.SMTP(shared_running.smtp_host, shared_running.smtp_port, timeout=10) as smtp:
        smtp.ehlo()
        yield smtp


def add_rule(api: httpx.Client, **rule: Any) -> dict[str, Any]:
    response = api.post("/api/v1/rules", json=rule)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


def run_stage(smtp: smtplib.SMTP, stage: str) -> tuple[int, bytes]:
    """Walk the session up to ``stage`` and return that stage's reply."""
    if stage == "AUTH":
        token = base64.b64encode(b"\0user\0secret").decode()
        return smtp.docmd("AUTH", f"PLAIN {token}")
    code, reply = smtp.mail("app@example.com")
    if stage == "MAIL":
        return code, reply
    code, reply = smtp.rcpt("bob@example.com")
    if stage == "RCPT":
        return code, reply
    return smtp.data(MESSAGE)


@pytest.mark.parametrize(
    ("stage", "reply"),
    [
        ("AUTH", "454 4.7.0 Temporary authentication failure"),
        ("AUTH", "535 5.7.8 Authentication credentials invalid"),
        ("MAIL", "421 4.7.0 Try again later"),
        ("MAIL", "550 5.7.1 Sender rejected"),
        ("RCPT", "450 4.2.1 Mailbox busy"),
        ("RCPT", "550 5.1.1 No such user"),
        ("DATA", "451 4.3.0 Local error"),
        ("DATA", "554 5.7.1 Message refused"),
    ],
)
def test_rule_answers_at_each_stage(
    client: smtplib.SMTP, api: httpx.Client, stage: str, reply: str
) -> None:
    add_rule(api, stage=stage, reply=reply)
    code, text = run_stage(client, stage)
    assert (code, text.decode()) == (int(reply[:3]), reply[4:])


@pytest.mark.parametrize("stage", ["MAIL", "RCPT", "DATA"])
def test_probability_zero_never_fires(client: smtplib.SMTP, api: httpx.Client, stage: str) -> None:
    add_rule(api, stage=stage, reply="550 5.7.1 Never", probability=0)
    code, _ = run_stage(client, stage)
    assert code == 250


def test_rule_matches_recipient_only(client: smtplib.SMTP, api: httpx.Client) -> None:
    add_rule(api, stage="RCPT", recipient="*@blocked.test", reply="550 5.1.2 Bad domain")
    client.mail("app@example.com")
    assert client.rcpt("bob@example.com")[0] == 250
    assert client.rcpt("eve@blocked.test") == (550, b"5.1.2 Bad domain")


def test_rule_matches_subject_at_data(client: smtplib.SMTP, api: httpx.Client) -> None:
    add_rule(api, stage="DATA", subject="*chaos*", reply="552 5.3.4 Too big")
    client.mail("app@example.com")
    client.rcpt("bob@example.com")
    assert client.data(MESSAGE) == (552, b"5.3.4 Too big")


def test_delay_before_answer(client: smtplib.SMTP, api: httpx.Client) -> None:
    add_rule(api, stage="MAIL", reply="451 4.4.2 Slow", delay=0.4)
    started = time.monotonic()
    assert client.mail("app@example.com")[0] == 451
    assert time.monotonic() - started >= 0.39  # timer granularity


@pytest.mark.parametrize("stage", ["AUTH", "MAIL", "RCPT", "DATA"])
def test_disconnect(client: smtplib.SMTP, api: httpx.Client, stage: str) -> None:
    add_rule(api, stage=stage, reply="disconnect")
    with pytest.raises(smtplib.SMTPServerDisconnected):
        run_stage(client, stage)
        client.noop()  # whatever the stage answered, the connection is gone


def test_disconnect_in_a_pipeline_answers_the_commands_before_it(
    shared_running: RunningSandbox, api: httpx.Client
) -> None:
    """Replies held back while pipelined commands wait reach the client before the hang-up."""
    add_rule(api, stage="RCPT", reply="disconnect", recipient="drop@example.com")
    address = (shared_running.smtp_host, shared_running.smtp_port)
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(
            b"EHLO x\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<ok@example.com>\r\n"
            b"RCPT TO:<drop@example.com>\r\nRCPT TO:<never@example.com>\r\n"
        )
        replies = read_replies(sock)
    codes = [line[:3] for line in replies if line[3:4] == b" "]
    assert codes == [b"220", b"250", b"250", b"250"]  # EHLO, MAIL, first RCPT; then hung up


def test_deleted_rule_stops_firing(client: smtplib.SMTP, api: httpx.Client) -> None:
    rule = add_rule(api, stage="MAIL", reply="550 5.7.1 No")
    assert api.delete(f"/api/v1/rules/{rule['id']}").status_code == 200
    assert client.mail("app@example.com")[0] == 250


@pytest.mark.parametrize("address", ["reject+x@example.com", "bob+reject@example.com"])
def test_reject_magic_address_at_rcpt(client: smtplib.SMTP, address: str) -> None:
    client.mail("app@example.com")
    code, text = client.rcpt(address)
    assert code == 550 and text.startswith(b"5.1.1")
    assert client.rcpt("ok@example.com")[0] == 250
