"""POP3 with Python's poplib: every command, STLS and POP3S, logins, what a session sees."""

from __future__ import annotations

import poplib
import smtplib
import socket
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from mailsandbox.pop3 import pop3_of
from mailsandbox.runner import RunningSandbox
from mailsandbox.smtp import tls
from tests.waiting import eventually

Factory = Callable[..., RunningSandbox]


def pop3_address(running: RunningSandbox, *, implicit_tls: bool = False) -> tuple[str, int]:
    server = pop3_of(running.sandbox)
    assert server is not None
    address = server.address(implicit_tls=implicit_tls)
    assert address is not None
    return address


def send(running: RunningSandbox, subject: str, body: str, inbox: str = "") -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "app@example.com", "ann@example.com", subject
    if inbox:
        msg["X-Sandbox-Inbox"] = inbox
    msg.set_content(body)
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=30) as client:
        client.send_message(msg)


def stored(running: RunningSandbox) -> list[dict[str, object]]:
    """The sandbox's messages, oldest first (POP3's order)."""
    listing = httpx.get(running.url + "/api/v1/messages").json()["messages"]
    return list(reversed(listing))


def raw(running: RunningSandbox, message_id: object) -> bytes:
    return httpx.get(f"{running.url}/api/v1/message/{message_id}/raw").content


def connect(running: RunningSandbox) -> poplib.POP3:
    return poplib.POP3(*pop3_address(running), timeout=30)


def test_every_command(sandbox_factory: Factory) -> None:
    running = sandbox_factory(pop3="127.0.0.1:0", pop3_auth=["ann:pass with spaces"])
    send(running, "First", "one\n")
    send(running, "Second", "line 1\n.leading dot\nline 3\n")
    send(running, "Third", "three\n")
    messages = stored(running)
    pop = connect(running)
    assert pop.getwelcome() == b"+OK mailsandbox POP3 server ready"
    capabilities = pop.capa()
    assert {"TOP", "USER", "UIDL", "RESP-CODES", "PIPELINING"} <= set(capabilities)
    assert "STLS" not in capabilities  # no TLS configured
    with pytest.raises(poplib.error_proto, match="not logged in"):
        pop.stat()
    pop.user("ann")
    assert pop.pass_("pass with spaces").startswith(b"+OK ann's maildrop has 3 messages")

    sizes = [m["Size"] for m in messages]
    assert pop.stat() == (3, sum(sizes))  # type: ignore[arg-type]
    response, listing, _ = pop.list()
    assert response.startswith(b"+OK") and listing == [
        f"{n} {size}".encode() for n, size in enumerate(sizes, start=1)
    ]
    assert pop.list(2) == f"+OK 2 {sizes[1]}".encode()
    _, uids, _ = pop.uidl()
    assert uids == [f"{n} {m['ID']}".encode() for n, m in enumerate(messages, start=1)]
    assert pop.uidl(3) == f"+OK 3 {messages[2]['ID']}".encode()

    response, lines, _ = pop.retr(2)  # poplib undoes the dot-stuffing
    assert response == f"+OK {sizes[1]} octets".encode()
    assert b"\r\n".join(lines) + b"\r\n" == raw(running, messages[1]["ID"])
    assert b".leading dot" in lines
    _, head, _ = pop.top(2, 1)
    blank = head.index(b"")
    assert head[blank + 1 :] == [b"line 1"] and b"Subject: Second" in head[:blank]
    _, no_body, _ = pop.top(1, 0)
    assert no_body[-1] == b"" and b"Subject: First" in no_body

    assert pop.dele(1) == b"+OK message 1 deleted"
    assert pop.stat() == (2, sizes[1] + sizes[2])  # type: ignore[operator]
    with pytest.raises(poplib.error_proto, match="no such message"):
        pop.retr(1)
    with pytest.raises(poplib.error_proto, match="no such message"):
        pop.dele(1)
    assert [line.split()[0] for line in pop.list()[1]] == [b"2", b"3"]
    assert pop.rset().startswith(b"+OK maildrop has 3 messages")
    assert pop.noop() == b"+OK"
    pop.dele(2)
    with pytest.raises(poplib.error_proto, match="already logged in"):
        pop.user("ann")
    with pytest.raises(poplib.error_proto, match="unknown command"):
        pop._shortcmd("XYZZY")
    assert pop.quit() == b"+OK mailsandbox POP3 server signing off (1 deleted)"
    # DELE deletes at QUIT, in the sandbox itself
    assert [m["Subject"] for m in stored(running)] == ["First", "Third"]


def test_wrong_password_can_be_retried(sandbox_factory: Factory) -> None:
    running = sandbox_factory(pop3="127.0.0.1:0", pop3_auth=["ann:right"])
    pop = connect(running)
    pop.user("ann")
    with pytest.raises(poplib.error_proto, match=r"-ERR \[AUTH\] invalid user name or password"):
        pop.pass_("wrong")
    pop.user("bob")
    with pytest.raises(poplib.error_proto, match=r"\[AUTH\]"):
        pop.pass_("right")
    with pytest.raises(poplib.error_proto, match="USER first"):
        pop.pass_("right")
    pop.user("ann")
    assert pop.pass_("right").startswith(b"+OK")
    pop.quit()


def test_ui_logins_work_and_pop3_only_logins_stay_off_http(sandbox_factory: Factory) -> None:
    running = sandbox_factory(pop3="127.0.0.1:0", ui_auth="admin:a", pop3_auth=["fetch:f"])
    for user, password in (("admin", "a"), ("fetch", "f")):
        pop = connect(running)
        pop.user(user)
        assert pop.pass_(password).startswith(b"+OK")
        pop.quit()
    assert httpx.get(running.url + "/api/v1/messages", auth=("fetch", "f")).status_code == 401
    assert httpx.get(running.url + "/api/v1/messages", auth=("admin", "a")).status_code == 200


def test_without_logins_any_login_sees_everything(sandbox_factory: Factory) -> None:
    running = sandbox_factory(pop3="127.0.0.1:0")
    send(running, "Hello", "hi\n")
    pop = connect(running)
    pop.user("whoever")
    pop.pass_("anything")
    assert pop.stat()[0] == 1
    pop.quit()


def test_a_session_sees_its_snapshot_and_a_dropped_one_deletes_nothing(
    sandbox_factory: Factory,
) -> None:
    running = sandbox_factory(pop3="127.0.0.1:0")
    send(running, "Before", "x\n")
    pop = connect(running)
    pop.user("u")
    pop.pass_("p")
    send(running, "After", "y\n")
    assert pop.stat()[0] == 1  # mail that came later is in the next session
    pop.dele(1)
    pop.sock.close()  # hang up without QUIT
    eventually(lambda: len(stored(running)) == 2)
    pop = connect(running)
    pop.user("u")
    pop.pass_("p")
    assert pop.stat()[0] == 2
    pop.quit()


def test_a_line_too_long_ends_the_session(sandbox_factory: Factory) -> None:
    running = sandbox_factory(pop3="127.0.0.1:0")
    with socket.create_connection(pop3_address(running), timeout=10) as sock:
        reader = sock.makefile("rb")
        assert reader.readline().startswith(b"+OK")
        sock.sendall(b"USER " + b"x" * 5000 + b"\r\n")
        assert reader.readline() == b"-ERR line too long\r\n"
        assert reader.readline() == b""


def trusting(certificate: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate))


def test_stls_and_pop3s(tmp_path: Path, sandbox_factory: Factory) -> None:
    running = sandbox_factory(
        pop3="127.0.0.1:0", pop3s="127.0.0.1:0", pop3_tls="self-signed", pop3_auth=["ann:pw"]
    )
    certificate = tmp_path / tls.CERT_FILE  # beside the database, shared with SMTP and HTTPS
    send(running, "Secret", "s\n")
    pop = poplib.POP3("localhost", pop3_address(running)[1], timeout=30)
    assert "STLS" in pop.capa()
    assert pop.stls(context=trusting(certificate)).startswith(b"+OK")
    assert "STLS" not in pop.capa()
    with pytest.raises(poplib.error_proto, match="TLS already active"):
        pop._shortcmd("STLS")
    pop.user("ann")
    pop.pass_("pw")
    assert pop.stat()[0] == 1
    pop.quit()

    secure = poplib.POP3_SSL(
        "localhost", pop3_address(running, implicit_tls=True)[1], context=trusting(certificate)
    )
    assert "STLS" not in secure.capa()
    secure.user("ann")
    secure.pass_("pw")
    assert secure.stat()[0] == 1
    secure.quit()


def test_pop3_flags_that_cannot_work_are_refused(sandbox_factory: Factory) -> None:
    cases = [
        ({"pop3_auth": ["a:b"]}, "--pop3-auth needs --pop3"),
        ({"pop3": "127.0.0.1:0", "pop3s": "127.0.0.1:0"}, "--pop3s needs TLS"),
        ({"pop3": "127.0.0.1:0", "pop3_tls": "on"}, "--pop3-tls is off or self-signed"),
        ({"pop3": "nowhere"}, "expected HOST:PORT"),
    ]
    for flags, text in cases:
        with pytest.raises(ValueError, match=text):
            sandbox_factory(**flags)
