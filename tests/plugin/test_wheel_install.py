"""mailsandbox installed as a user installs it, into a project with its own ``web`` and ``sandbox``.

Many projects have a ``web/`` package (a Django app) or a ``sandbox/`` folder. The checkout is
built into a wheel outside the repository and installed into a fresh venv, so neither the
repository root on ``sys.path`` nor the editable install can hide a leftover top-level import:
the user's packages come first on ``sys.path`` and the plugin must still load and work.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

USER_TEST = """
import smtplib
from email.message import EmailMessage

import sandbox  # the user's own packages, imported first
import web


def test_the_fixture_catches_mail(mailsandbox):
    assert web.NAME == "the user's web app" and sandbox.NAME == "the user's demo"
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "app@example.com", "ann@example.com", "Hello"
    msg.set_content("Your code is 482913")
    with smtplib.SMTP(mailsandbox.smtp_host, mailsandbox.smtp_port) as smtp:
        smtp.login(mailsandbox.smtp_user, mailsandbox.smtp_password)  # selects the test's inbox
        smtp.send_message(msg)
    caught = mailsandbox.wait_for(subject="Hello", timeout=10)
    assert caught.codes() == ["482913"]
"""


def run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_wheel_in_a_project_with_its_own_web_and_sandbox_packages(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "MAILSANDBOX_"))}
    env.pop("PYTHONPATH", None)
    wheels = tmp_path / "wheels"
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)],
        tmp_path, env)  # fmt: skip
    (wheel,) = wheels.glob("mailsandbox-*.whl")

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = str(env_dir / "bin" / "python")
    run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel),
         "pytest"], tmp_path, env)  # fmt: skip

    project = tmp_path / "project"
    for package, name in (("web", "the user's web app"), ("sandbox", "the user's demo")):
        (project / package).mkdir(parents=True)
        (project / package / "__init__.py").write_text(f"NAME = {name!r}\n")
    (project / "pytest.ini").write_text("[pytest]\npythonpath = .\n")
    (project / "test_mail.py").write_text(textwrap.dedent(USER_TEST))

    output = run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], project, env)
    assert "1 passed" in output
    # The command line works from the project too, with the user's packages importable.
    version = run([python, "-m", "mailsandbox", "--version"], project, env)
    assert version.startswith("mailsandbox ")
    assert run([str(env_dir / "bin" / "mailsandbox"), "--version"], project, env) == version
