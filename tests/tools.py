"""Real outside tools for tests (npm packages, Debian programs): found or installed, never skipped.

A test that needs a tool it cannot get fails with the command that would install it, so CI goes
red instead of quietly skipping. npm packages are installed once per set into
``~/.cache/mailsandbox/node/<set>``; ``.ci/run`` installs the Debian programs.

    modules = node_modules("mailgun.js@14", "form-data@4")
    result = run_node(script, modules, "http://localhost:8025")
    steps = node_steps(result)                   # a script printing {"step", "value"} lines
    php = require_program("php", "php-cli")
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

NODE_CACHE = Path.home() / ".cache" / "mailsandbox" / "node"


def require_program(name: str, debian_package: str) -> str:
    """The path of ``name``, or a failed test that says which Debian package provides it."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is required (apt-get install {debian_package}); .ci/run installs it")
    return path


def node_modules(*packages: str) -> Path:
    """A ``node_modules`` folder holding ``packages`` (npm specs), installed on first use."""
    require_program("node", "nodejs")
    npm = require_program("npm", "npm")
    specs = sorted(packages)
    name = re.sub(r"[^a-z0-9.]+", "-", "-".join(specs).lower())[:60]
    digest = hashlib.sha1("\n".join(specs).encode()).hexdigest()[:8]
    prefix = NODE_CACHE / f"{name}-{digest}"
    done = prefix / ".installed"
    if not done.exists():
        prefix.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", *specs],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        if result.returncode != 0:
            pytest.fail(f"npm install {' '.join(specs)} failed:\n{result.stderr[-2000:]}")
        done.touch()
    return prefix / "node_modules"


def run_node(
    script: Path, modules: Path, *args: str, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a Node.js script with ``modules`` on its ``NODE_PATH``; the caller checks the result."""
    environment = {"NODE_PATH": str(modules), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    environment.update(env or {})
    return subprocess.run(
        ["node", str(script), *args],
        capture_output=True, text=True, timeout=timeout, env=environment,
    )  # fmt: skip


def node_steps(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """What a Node script that prints one ``{"step", "value"}`` JSON object per line found,
    by step; the script must have succeeded."""
    assert result.returncode == 0, result.stderr
    return {r["step"]: r["value"] for r in map(json.loads, result.stdout.splitlines())}
