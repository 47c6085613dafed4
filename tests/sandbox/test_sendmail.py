"""``mailsandbox sendmail``: sendmail's options and exit codes, and PHP's mail() through it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from email import message_from_bytes

import httpx
import pytest

from mailsandbox.runner import RunningSandbox
from mailsandbox.storage import messages
from mailsandbox.storage.messages import MessageSummary
from tests.tools import require_program

Factory = Callable[..., RunningSandbox]
SENDMAIL = [sys.executable, "-m", "mailsandbox", "sendmail"]


def sendmail(
    running: RunningSandbox | None, *args: str, stdin: bytes, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    address = ["--smtp", f"{running.smtp_host}:{running.smtp_port}"] if running else []
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MAILSANDBOX_")}
    return subprocess.run(
        [*SENDMAIL, *address, *args], input=stdin, capture_output=True, timeout=60,
        env={**environment, **(env or {})},
    )  # fmt: skip


def newest(running: RunningSandbox) -> tuple[MessageSummary, bytes]:
    def read(conn: object) -> tuple[MessageSummary, bytes]:
        listing = messages.list_summaries(conn, limit=1)  # type: ignore[arg-type]
        assert listing, "no message arrived"
        raw = messages.get_raw(conn, listing[0].id)  # type: ignore[arg-type]
        assert raw is not None
        return listing[0], raw

    return running.sandbox.db.read_sync(read)


def test_dash_t_takes_the_recipients_from_the_headers_and_drops_bcc(
    running: RunningSandbox,
) -> None:
    message = (b"From: App <app@example.com>\nTo: Ann <ann@example.com>\nCc: bob@example.com\n"
               b"Bcc: secret@example.com\nSubject: Hello\n\nLine one\n.\nLine three\n")  # fmt: skip
    done = sendmail(running, "-t", "-i", "extra@example.com", stdin=message)
    assert done.returncode == 0, done.stderr
    summary, raw = newest(running)
    everyone = ["ann@example.com", "bob@example.com", "extra@example.com", "secret@example.com"]
    assert sorted(summary.recipients) == everyone
    assert summary.mail_from == "app@example.com"  # the From address
    stored = message_from_bytes(raw)
    # the sandbox names envelope-only recipients in a Bcc of its own; the original is gone
    assert raw.count(b"Bcc:") == 1 and "secret@example.com" in stored["Bcc"]
    assert raw.index(b"Bcc:") < raw.index(b"From: App")
    assert stored.get_payload() == "Line one\r\n.\r\nLine three\r\n"  # -i: the dot is text
    assert stored["Date"]  # added, as Postfix does


def test_recipients_sender_name_and_the_lone_dot(running: RunningSandbox) -> None:
    message = b"Subject: Cron <root@host> backup\n\nAll done\n.\nnot sent\n"
    done = sendmail(running, "-fcron@example.com", "-F", "Cron Daemon", "-oi", "-odi",
                    "ops@example.com,dev@example.com", stdin=message)  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary, raw = newest(running)
    assert summary.recipients == ["ops@example.com", "dev@example.com"]
    assert summary.mail_from == "cron@example.com"
    assert message_from_bytes(raw)["From"] == "Cron Daemon <cron@example.com>"
    assert b"not sent" in raw  # -oi

    done = sendmail(running, "ops@example.com", stdin=b"Subject: Dots\n\nAll done\n.\nnot sent\n")
    assert done.returncode == 0, done.stderr
    assert b"not sent" not in newest(running)[1]  # without -i a lone dot ends the message


def test_the_login_names_the_inbox_and_the_environment_gives_the_address(
    running: RunningSandbox,
) -> None:
    env = {"MAILSANDBOX_SMTP": f"{running.smtp_host}:{running.smtp_port}"}
    done = sendmail(None, "--auth", "shop:secret", "ann@example.com", stdin=b"Subject: A\n\nx\n",
                    env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert newest(running)[0].inbox == "shop"
    env["MAILSANDBOX_SMTP_AUTH"] = "billing:pw,other:pw"
    assert sendmail(None, "ann@example.com", stdin=b"Subject: B\n\nx\n", env=env).returncode == 0
    assert newest(running)[0].inbox == "billing"


def test_exit_codes(sandbox_factory: Factory) -> None:
    running = sandbox_factory(smtp_auth=["app:right"])
    httpx.post(running.url + "/api/v1/rules",
               json={"stage": "RCPT", "recipient": "*@blocked.test", "reply": "550 5.7.1 Blocked"},
               ).raise_for_status()  # fmt: skip
    mail = b"Subject: x\n\nx\n"
    cases = [
        (["--auth", "app:right", "-t"], 65, "no recipients"),
        (["--auth", "app:wrong", "a@b.test"], 77, "login refused: 535"),
        (["a@b.test"], 69, "530 5.7.0 Authentication required"),
        (["--auth", "app:right", "x@blocked.test"], 67, "x@blocked.test (550 5.7.1 Blocked)"),
        (["-q", "a@b.test"], 64, "unknown option -q"),
        (["-bp"], 64, "-bp is not supported"),
        (["-f"], 64, "-f needs a value"),
    ]
    for args, status, text in cases:
        done = sendmail(running, *args, stdin=mail)
        assert (done.returncode, text in done.stderr.decode()) == (status, True), (
            args,
            done.stderr,
        )
        assert done.stderr.decode().count("\n") <= 2, "one line (plus usage)"
    unreachable = sendmail(None, "--smtp", "127.0.0.1:1", "a@b.test", stdin=mail)
    assert unreachable.returncode == 75 and b"cannot reach the sandbox" in unreachable.stderr
    bad = sendmail(None, "--smtp", "nowhere", "a@b.test", stdin=mail)
    assert bad.returncode == 78


def test_php_mail_through_sendmail_path(running: RunningSandbox) -> None:
    php = require_program("php", "php-cli")
    command = " ".join(
        [*SENDMAIL, "-t", "-i", "--smtp", f"{running.smtp_host}:{running.smtp_port}"]
    )
    script = (
        'var_export(mail("ann@example.com", "Order shipped", "Your order is on its way.\\n.\\nBye",'
        ' "From: Shop <shop@example.com>\\r\\nCc: boss@example.com\\r\\nBcc: audit@example.com"));'
    )
    done = subprocess.run([php, "-d", f"sendmail_path={command}", "-r", script],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.stdout == "true", done.stdout + done.stderr
    summary, raw = newest(running)
    assert summary.subject == "Order shipped"
    assert sorted(summary.recipients) == [
        "ann@example.com",
        "audit@example.com",
        "boss@example.com",
    ]
    assert b"Your order is on its way.\r\n.\r\nBye" in raw


@pytest.mark.parametrize("name", ["sendmail"])
def test_installed_as_sendmail_it_acts_as_sendmail(
    running: RunningSandbox, tmp_path: object, name: str
) -> None:
    from pathlib import Path

    link = Path(str(tmp_path)) / name
    link.symlink_to(Path(sys.executable).parent / "mailsandbox")
    done = subprocess.run(
        [str(link), "-t", "--smtp", f"{running.smtp_host}:{running.smtp_port}"],
        input=b"To: ann@example.com\nSubject: via link\n\nx\n", capture_output=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert newest(running)[0].subject == "via link"
