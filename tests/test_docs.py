"""Every code sample in README.md and docs/*.md runs, against a real sandbox, as a user pastes it.

Each fenced block is one test (id ``file:line`` of its fence), so a failure names the sample.
How blocks are found and marked is in ``tests/samples/blocks.py``, how each language runs in
``tests/samples/runners.py``. The rules, also stated for writers in docs/testing.md:

- Samples use the default addresses (HTTP ``localhost:8025``, SMTP ``localhost:1025``); the test
  starts its own sandbox on free ports and rewrites those port numbers in the sample.
- A block whose note says ``*Run with: mailsandbox serve <flags>.*`` gets a sandbox started
  with those flags; one whose note says ``*Not runnable: <reason>.*`` is not run. Every other
  block must run and succeed, and must be in a language we can run (``text`` is for output and
  syntax, which is not run).
- The samples of a file share one sandbox per set of flags (they do not get in each other's
  way: none deletes mail, and failures use magic addresses). Before any sample runs it holds
  the mail the "wait for your app's mail" samples look for: a welcome mail to
  ann@example.com with a code, and a password reset to alice@example.com.
- A sample must have the effect it shows, where that is cheap to see: one that sends mail
  leaves more mail in the sandbox; a Django settings excerpt delivers a mail through the
  backend it configures; a test sample's tests all pass. And no sample leaves an ordinary
  address on a suppression list: simulated failures use magic addresses
  (``ann+bounce@example.com``), so the rest of the docs' mail to ann still gets delivered.
"""

from __future__ import annotations

import re
import smtplib
import sqlite3
import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from mailsandbox.cli import build_parser
from mailsandbox.config import parse_credentials, parse_hostport
from mailsandbox.emulators.postmark.event_webhooks import test_address_rule as postmark_rule
from mailsandbox.emulators.resend.event_webhooks import test_address_rule as resend_rule
from mailsandbox.events.magic import magic_rule
from mailsandbox.runner import RunningSandbox, start_in_thread
from tests.conftest import make_settings
from tests.samples import runners
from tests.samples.blocks import ROOT, Block, all_blocks, documents, extract, stray_notes

BLOCKS = all_blocks()
RUNNABLE = [b for b in BLOCKS if not b.not_runnable and runners.kind_of(b) != runners.TEXT]
# What a sample that sends mail looks like (then it must leave more mail than it found).
SENDS = re.compile(
    r"send_message|sendMail|\.send\(|messages\.create|/v3/mail/send|/api/v1/send"
    r"|mailsandbox (?:ingest|sendmail|import)"
)
SEED = (
    ("ann@example.com", "Welcome", "Welcome aboard! Your code is 482913"),
    ("alice@example.com", "Password reset", "Reset it here: https://app.example.com/reset?t=1"),
)


def seed(running: RunningSandbox) -> None:
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=30) as smtp:
        smtp.ehlo()
        if smtp.has_extn("starttls"):  # whatever TLS flags a sample's sandbox was started with
            smtp.starttls(context=ssl._create_unverified_context())
        if running.settings.smtp_auth:  # a sandbox run with --smtp-auth: log in as its user
            smtp.login(*parse_credentials(running.settings.smtp_auth[0]))
        for to, subject, text in SEED:
            msg = EmailMessage()
            msg["From"], msg["To"], msg["Subject"] = "app@example.com", to, subject
            msg.set_content(text)
            smtp.send_message(msg)


class Targets:
    """One seeded sandbox per (document, serve flags), started on first use."""

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self.factory = factory
        self.started: dict[tuple[str, tuple[str, ...]], runners.Target] = {}

    def get(self, block: Block) -> runners.Target:
        key = (block.path.name, block.serve_flags)
        if key not in self.started:
            self.started[key] = self._start(block.serve_flags)
        return self.started[key]

    def _start(self, flags: tuple[str, ...]) -> runners.Target:
        parsed = vars(build_parser().parse_args(["serve", *flags]))
        overrides = {k: v for k, v in parsed.items() if v is not None and k != "command"}
        # Extra listeners a sample talks to get free ports too: {flag's setting: its port}.
        moved = {
            name: parse_hostport(overrides[name])[1]
            for name in runners.EXTRA_LISTENERS
            if overrides.get(name)
        }
        overrides.update(dict.fromkeys(moved, "127.0.0.1:0"))
        workdir = self.factory.mktemp("docs")
        # The default database name, so files kept "beside it" have their documented names.
        overrides.update(smtp="127.0.0.1:0", http="127.0.0.1:0", db=str(workdir / "mailsandbox.db"))
        running = start_in_thread(make_settings(workdir, **overrides))
        seed(running)
        return runners.Target.of(running, workdir, moved)

    def stop(self) -> None:
        for target in self.started.values():
            target.running.stop()


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Targets]:
    started = Targets(tmp_path_factory)
    yield started
    started.stop()


def ordinary_suppressions(target: runners.Target) -> list[str]:
    """Addresses on a suppression list that are not magic, ours or a provider's own test
    addresses (a sample bounced a real one)."""
    with sqlite3.connect(f"file:{target.workdir / 'mailsandbox.db'}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT kind, scope, email FROM suppressions").fetchall()
    test_addresses = (magic_rule, postmark_rule, resend_rule)
    return [f"{kind} {scope or '(account)'} {email}" for kind, scope, email in rows
            if not any(rule(email) for rule in test_addresses)]  # fmt: skip


@pytest.mark.parametrize("block", RUNNABLE, ids=[b.id for b in RUNNABLE])
def test_sample_runs(block: Block, targets: Targets) -> None:
    kind = runners.kind_of(block)
    if kind is None:
        pytest.fail(
            f"{block.id}: a {block.language or 'plain'} block cannot be run: write it as"
            " python, js, sh or json, call it text (output, syntax), or mark it"
            " *Not runnable: <reason>.* on the line before its fence"
        )
    if kind == runners.JSON:
        runners.check_json(block)
        return
    target = targets.get(block)
    mailbox = target.running.sandbox.mailbox
    before = mailbox.accepted  # counts every message stored, by any door, deleted or not
    subject = ""
    if kind == runners.PYTHON:
        subject = runners.run_python(block, target)
    elif kind == runners.NODE:
        runners.run_node_sample(block, target)
    else:
        runners.run_shell(block, target)
    if subject:
        with httpx.Client(base_url=target.running.url, timeout=30) as api:
            found = api.get("/api/v1/search", params={"query": f'subject:"{subject}"'}).json()
        assert found["messages_count"] == 1, "the settings sample's mail did not arrive"
    if SENDS.search(block.code):
        assert mailbox.accepted > before, "the sample sends mail, but none arrived"
    assert ordinary_suppressions(target) == [], "use a magic address (ann+bounce@…) instead"


def test_the_docs_have_samples() -> None:
    assert len(RUNNABLE) > 20, "the extraction lost the docs' code blocks"


@pytest.mark.parametrize("path", documents(), ids=lambda p: p.name)
def test_notes_stand_right_before_a_block(path: Path) -> None:
    assert stray_notes(path) == []


def test_notes_mark_the_block_after_them(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(
        "*Not runnable: an excerpt of settings.py.*\n```python\nX = 1\n```\n\n"
        "*Run with: mailsandbox serve --smtp-auth 'a:b c'.*\n\n```sh\ntrue\n```\n"
        "```text\noutput\n```\n*Not runnable: nothing follows.*\n\n*run with: typo*\n"
    )
    excerpt, flagged, text = extract(doc)
    assert (excerpt.not_runnable, excerpt.serve_flags, excerpt.code) == (
        "an excerpt of settings.py", (), "X = 1\n")  # fmt: skip
    assert (flagged.line, flagged.serve_flags) == (8, ("--smtp-auth", "a:b c"))
    assert (text.language, text.not_runnable, text.serve_flags) == ("text", "", ())
    assert stray_notes(doc) == [
        "doc.md:14: *Not runnable: nothing follows.*",
        "doc.md:16: *run with: typo*",
    ]


def test_a_run_with_note_gets_a_sandbox_with_those_flags(targets: Targets) -> None:
    code = (
        "import smtplib\n"
        "with smtplib.SMTP('localhost', 1025) as smtp:\n"
        "    smtp.login('docs', 'secret')\n"
        "    smtp.sendmail('app@example.com', ['ann@example.com'], 'Subject: Hi\\r\\n\\r\\nHi')\n"
    )
    flags = ("--smtp-auth", "docs:secret", "--max-messages", "5")
    block = Block(ROOT / "docs" / "example.md", 1, "python", code, serve_flags=flags)
    target = targets.get(block)
    assert target.running.settings.smtp_auth == ["docs:secret"]
    assert target.running.settings.max_messages == 5
    runners.run_python(block, target)
    assert target.running.sandbox.mailbox.accepted == len(SEED) + 1


def test_documented_ports_are_rewritten_as_whole_words(targets: Targets) -> None:
    block = Block(ROOT / "docs" / "example.md", 1, "sh", "true\n")
    target = targets.get(block)
    moved = runners.Target(target.running, target.workdir, {8025: 50001, 1025: 50002, 1465: 50003})
    code = "curl localhost:8025/x; smtp(('localhost', 1025)); smtps:1465; 18025 10250 port=1025"
    assert moved.rewrite(code) == (
        "curl localhost:50001/x; smtp(('localhost', 50002)); smtps:50003; 18025 10250 port=50002"
    )


def test_console_transcripts_run_their_commands_only() -> None:
    transcript = "$ echo one\none\n$ echo two\ntwo\n"
    assert runners.console_commands(transcript) == "echo one\necho two\n"
