"""The package layout: one import package, and the core never imports the web UI or emulators.

The folders ``sandbox/``, ``web/`` and ``emulators/`` install as ``mailsandbox``,
``mailsandbox.web`` and ``mailsandbox.emulators`` (pyproject.toml maps them). The core
(``sandbox/``) never imports ``mailsandbox.web`` or ``mailsandbox.emulators``; only the
composition root (``sandbox/app.py``), the thread runner (``sandbox/runner.py``) and the
test-facing pieces (``sandbox/pytest_plugin.py``, ``sandbox/client/``) may, since they put the
whole application together.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = {"sandbox/app.py", "sandbox/runner.py", "sandbox/pytest_plugin.py"}
FORBIDDEN = ("mailsandbox.web", "mailsandbox.emulators")
FOLDERS = {"sandbox": "mailsandbox", "web": "mailsandbox.web", "emulators": "mailsandbox.emulators"}
OLD_TOP_LEVEL = {"sandbox", "web", "emulators"}


def imported_modules(path: Path) -> set[str]:
    """Every absolute module an import statement names, ``from a import b`` as ``a.b``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def forbidden_in(path: Path) -> set[str]:
    return {
        name
        for name in imported_modules(path)
        for prefix in FORBIDDEN
        if name == prefix or name.startswith(prefix + ".")
    }


def python_files() -> list[Path]:
    roots = [*FOLDERS, "tests", "bench", "docs"]
    return sorted(p for root in roots for p in (ROOT / root).rglob("*.py"))


def test_core_does_not_import_add_ons() -> None:
    offenders = []
    for path in sorted((ROOT / "sandbox").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative in ALLOWED or relative.startswith("sandbox/client/"):
            continue
        bad = forbidden_in(path)
        if bad:
            offenders.append(f"{relative} imports {sorted(bad)}")
    assert offenders == []


def test_the_rule_detects_violations(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import mailsandbox.web.pages\n"
        "from mailsandbox.emulators.sendgrid import x\n"
        "from mailsandbox import web\n"
        "from mailsandbox import webhooks\n"
    )
    assert forbidden_in(sample) == {
        "mailsandbox.web.pages",
        "mailsandbox.emulators.sendgrid",
        "mailsandbox.emulators.sendgrid.x",
        "mailsandbox.web",
    }


def test_nothing_imports_the_old_top_level_names() -> None:
    # The repository root is on sys.path in this suite, so a leftover ``import sandbox`` would
    # still work here and only break in a user's project: look for it in the source instead.
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in python_files()
        for name in sorted(imported_modules(path))
        if name.split(".")[0] in OLD_TOP_LEVEL
    ]
    assert offenders == []


def test_pyproject_lists_every_package_folder() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"] == {name: folder for folder, name in FOLDERS.items()}
    expected = set()
    for folder, name in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT / folder).parts
            expected.add(".".join((name, *parts)))
    # Data folders (the web UI's, the API explorer's) are listed so their files are installed.
    expected |= {"mailsandbox.static", "mailsandbox.web.static", "mailsandbox.web.templates"}
    assert set(config["packages"]) == expected
