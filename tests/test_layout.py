"""The import rule: the ``sandbox`` core never imports ``web`` or ``emulators``.

Only the composition root (``sandbox/app.py``), the thread runner (``sandbox/runner.py``) and
the test-facing pieces (``sandbox/pytest_plugin.py``, ``sandbox/client/``) may, since they put
the whole application together.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = {"sandbox/app.py", "sandbox/runner.py", "sandbox/pytest_plugin.py"}
FORBIDDEN = ("web", "emulators")


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_does_not_import_add_ons() -> None:
    offenders = []
    for path in sorted((ROOT / "sandbox").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative in ALLOWED or relative.startswith("sandbox/client/"):
            continue
        bad = imported_packages(path) & set(FORBIDDEN)
        if bad:
            offenders.append(f"{relative} imports {sorted(bad)}")
    assert offenders == []


def test_the_rule_detects_violations(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import web.pages\nfrom emulators.sendgrid import x\nfrom . import web\n")
    assert imported_packages(sample) == {"web", "emulators"}
