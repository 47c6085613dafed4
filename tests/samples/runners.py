"""How each kind of documentation sample is run, against a sandbox on free ports.

Samples are written for the default addresses (HTTP ``localhost:8025``, SMTP ``localhost:1025``);
:meth:`Target.rewrite` swaps those port numbers (whole words only) for the ports the sandbox
really got, so the test never needs the default ports free. Every sample runs in a subprocess
whose working directory holds the sandbox's database (files the docs say are kept "beside the
database", such as a generated certificate, are where a user would find them); the sample's
own files go in a scratch directory of their own:

- Python: a script is run with the venv's interpreter; a file of ``UPPER_CASE = ...``
  assignments is a Django settings excerpt (``django_send.py`` configures Django with it and
  sends a mail, which must arrive); a file of ``test_*`` functions or ``TestCase`` classes is
  run by pytest as a user's test file, in a copy of ``project/`` (a tiny Django shop), with the
  plugin pointed at our sandbox (``--mailsandbox-url``), and every test in it must pass.
- JavaScript: ``node`` with the npm packages of :data:`NPM_PACKAGES` (CommonJS, so no top-level
  ``await``); a ``require`` of anything else fails the test until it is added there.
- Shell (``sh``, ``bash``, ``console``): ``bash -e -o pipefail`` with the venv on ``PATH``
  (``mailsandbox`` works) and a ``.curlrc`` that makes curl fail on an HTTP error status, so a
  request that stops working fails the sample. ``console`` runs the ``$ `` lines only.
- JSON: must parse.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mailsandbox.pop3.access import pop3_of
from mailsandbox.runner import RunningSandbox
from tests.samples.blocks import Block
from tests.tools import node_modules, require_program, run_node

HERE = Path(__file__).parent
SHOP = HERE.parent / "plugin" / "project" / "shop.py"
DEFAULT_HTTP, DEFAULT_SMTP = 8025, 1025
TIMEOUT = 120
# Every npm package a sample may require, at the major version the docs are checked with.
NPM_PACKAGES = {
    "nodemailer": "nodemailer@10",
    "@sendgrid/mail": "@sendgrid/mail@8",
    "mailgun.js": "mailgun.js@14",
    "form-data": "form-data@4",
    "mailpit-api": "mailpit-api@2",
    "@aws-sdk/client-sesv2": "@aws-sdk/client-sesv2@3",
    "postmark": "postmark@4",
    "resend": "resend@6",
}
REQUIRE = re.compile(r"""\brequire\(\s*["']([^"']+)["']\s*\)""")
NODE_BUILTINS = {"assert", "crypto", "fs", "http", "https", "net", "os", "path", "tls", "url"}
CURLRC = "fail-with-body\nshow-error\nmax-time = 60\n"


def _pop3(running: RunningSandbox, implicit_tls: bool) -> tuple[str, int] | None:
    server = pop3_of(running.sandbox)
    return server.address(implicit_tls=implicit_tls) if server is not None else None


# Listeners besides SMTP and HTTP a sample may name: the setting, and where it really listens.
EXTRA_LISTENERS: dict[str, Callable[[RunningSandbox], tuple[str, int] | None]] = {
    "smtps": lambda running: running.sandbox.smtps_address,
    "pop3": lambda running: _pop3(running, False),
    "pop3s": lambda running: _pop3(running, True),
}

PYTHON, NODE, SHELL, JSON, TEXT = "python", "node", "shell", "json", "text"
LANGUAGES = {
    "python": PYTHON,
    "py": PYTHON,
    "js": NODE,
    "javascript": NODE,
    "sh": SHELL,
    "bash": SHELL,
    "shell": SHELL,
    "console": SHELL,
    "json": JSON,
    "text": TEXT,
}


def kind_of(block: Block) -> str | None:
    """How ``block`` runs (one of the kinds above), or None for a language we cannot run."""
    return LANGUAGES.get(block.language)


class SampleFailed(AssertionError):
    pass


@dataclass
class Target:
    """The sandbox a file's samples talk to, and the directory they run in (its database's)."""

    running: RunningSandbox
    workdir: Path
    ports: dict[int, int]  # port in the docs -> the sandbox's real one

    @classmethod
    def of(cls, running: RunningSandbox, workdir: Path, moved: dict[str, int]) -> Target:
        """``moved``: the documented ports of extra listeners (``{"pop3": 1110}``)."""
        ports = {DEFAULT_HTTP: running.http_port, DEFAULT_SMTP: running.smtp_port}
        for name, documented in moved.items():
            address = EXTRA_LISTENERS[name](running)
            if address is not None:
                ports[documented] = address[1]
        return cls(running, workdir, ports)

    def rewrite(self, code: str) -> str:
        """The sample with the documented ports replaced by the sandbox's real ones."""
        pattern = "|".join(str(port) for port in self.ports)
        return re.sub(rf"\b({pattern})\b", lambda m: str(self.ports[int(m[1])]), code)

    def env(self) -> dict[str, str]:
        """The environment of a sample: ours, minus settings that would redirect it."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MAILSANDBOX_", "PYTEST_"))}
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        return env

    def scratch(self, block: Block) -> Path:
        """A fresh directory for one sample's own files, inside the working directory."""
        path = self.workdir / f"sample-{block.line}-{uuid.uuid4().hex[:6]}"
        path.mkdir()
        return path


def _check(result: subprocess.CompletedProcess[str], what: str) -> str:
    if result.returncode != 0:
        raise SampleFailed(
            f"{what} exited with {result.returncode}\n--- stdout\n{result.stdout[-4000:]}"
            f"\n--- stderr\n{result.stderr[-4000:]}"
        )
    return result.stdout


def _run(args: list[str], target: Target, cwd: Path, what: str) -> str:
    result = subprocess.run(
        args, cwd=cwd, env=target.env(), capture_output=True, text=True, timeout=TIMEOUT
    )
    return _check(result, what)


# --- Python -----------------------------------------------------------------------------------
def python_kind(code: str) -> str:
    """``settings`` (only UPPER_CASE assignments), ``pytest`` (defines tests) or ``script``."""
    tree = ast.parse(code)
    if tree.body and all(
        isinstance(node, ast.Assign)
        and all(isinstance(t, ast.Name) and t.id.isupper() for t in node.targets)
        for node in tree.body
    ):
        return "settings"
    if test_names(tree):
        return "pytest"
    return "script"


def test_names(tree: ast.Module) -> list[str]:
    """The tests pytest will find in a module: ``test_*`` functions and methods of classes."""
    names = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            names.append(node.name)
        elif isinstance(node, ast.ClassDef):
            names += [
                f"{node.name}.{item.name}"
                for item in node.body
                if isinstance(item, ast.FunctionDef) and item.name.startswith("test")
            ]
    return names


def run_python(block: Block, target: Target) -> str:
    """Run a Python sample; for a settings excerpt, returns the subject of the mail it sent."""
    code = target.rewrite(block.code)
    here = target.scratch(block)
    kind = python_kind(code)
    if kind == "settings":
        (here / "sample_settings.py").write_text(code)
        subject = f"Settings sample {block.id}"
        send = [sys.executable, str(HERE / "django_send.py"), str(here / "sample_settings.py")]
        _run([*send, subject], target, target.workdir, "the Django settings sample")
        return subject
    if kind == "pytest":
        for name in ("conftest.py", "pytest.ini"):
            shutil.copy(HERE / "project" / name, here / name)
        shutil.copy(SHOP, here / "shop.py")
        (here / "test_sample.py").write_text(code)
        running = target.running
        sandbox = [
            f"--mailsandbox-url={running.url}",
            f"--mailsandbox-smtp={running.smtp_host}:{running.smtp_port}",
        ]
        pytest_args = [sys.executable, "-m", "pytest", "-q", "test_sample.py", *sandbox]
        out = _run(pytest_args, target, here, "pytest")
        expected = len(test_names(ast.parse(code)))
        if f"{expected} passed" not in out or "skipped" in out:
            raise SampleFailed(f"expected {expected} passed tests, pytest said:\n{out}")
        return ""
    (here / "sample.py").write_text(code)
    _run([sys.executable, str(here / "sample.py")], target, target.workdir, "python")
    return ""


# --- JavaScript, shell, JSON ------------------------------------------------------------------
def run_node_sample(block: Block, target: Target) -> None:
    code = target.rewrite(block.code)
    wanted = {name for name in REQUIRE.findall(code) if name.split("/")[0] not in NODE_BUILTINS}
    unknown = wanted - NPM_PACKAGES.keys()
    if unknown:
        raise SampleFailed(f"add {sorted(unknown)} to NPM_PACKAGES in {Path(__file__).name}")
    modules = node_modules(*NPM_PACKAGES.values())
    script = target.scratch(block) / "sample.cjs"  # CommonJS, whatever a package.json says
    script.write_text(code)
    _check(run_node(script, modules, timeout=TIMEOUT), "node")


def console_commands(code: str) -> str:
    """The commands of a ``console`` transcript (its ``$ `` lines)."""
    return "".join(line[2:] + "\n" for line in code.splitlines() if line.startswith("$ "))


def run_shell(block: Block, target: Target) -> None:
    bash = require_program("bash", "bash")
    require_program("curl", "curl")
    code = target.rewrite(block.code)
    if block.language == "console":
        code = console_commands(code)
    here = target.scratch(block)
    (here / ".curlrc").write_text(CURLRC)
    (here / "sample.sh").write_text(code)
    env = {**target.env(), "CURL_HOME": str(here)}
    result = subprocess.run(
        [bash, "-e", "-o", "pipefail", str(here / "sample.sh")],
        cwd=target.workdir, env=env, capture_output=True, text=True, timeout=TIMEOUT,
    )  # fmt: skip
    _check(result, "bash")


def check_json(block: Block) -> None:
    try:
        json.loads(block.code)
    except ValueError as exc:
        raise SampleFailed(f"not valid JSON: {exc}") from None
