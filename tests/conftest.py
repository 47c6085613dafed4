"""Shared fixtures: a real sandbox (HTTP + SMTP on free ports, SQLite in a temp dir) per test.

Storage backends: a sandbox stores its mail on the test's ``backend``: SQLite (a file in the
test's temporary directory), except in the suites of :data:`ON_BOTH_BACKENDS` (storage, API,
events, emulators), whose tests run once on SQLite and once on PostgreSQL (a database of
their own on a throwaway cluster, ``postgres_cluster``: one per session and worker, see
tests/postgres.py): a feature that works on SQLite only fails there.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mailsandbox.config import Settings
from mailsandbox.runner import RunningSandbox, start_in_thread
from mailsandbox.storage.sql import POSTGRESQL, SQLITE
from tests.postgres import Cluster, ClusterError

BACKENDS = (SQLITE, POSTGRESQL)
# Suites whose tests run on both backends (whatever they start: their sandboxes, databases).
ON_BOTH_BACKENDS = ("sandbox/storage", "sandbox/api", "sandbox/events", "emulators")
TESTS = Path(__file__).resolve().parent


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test of a suite in ``ON_BOTH_BACKENDS`` that uses ``backend`` (through a sandbox, a
    database) runs on each backend; module-scoped, so a module's shared sandbox is too."""
    if "backend" not in metafunc.fixturenames or metafunc.definition.get_closest_marker(
        "sqlite_only"
    ):
        return
    where = metafunc.definition.path.relative_to(TESTS).as_posix()
    if any(where.startswith(suite + "/") for suite in ON_BOTH_BACKENDS):
        metafunc.parametrize("backend", BACKENDS, scope="module")


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for a test sandbox: loopback, port 0, a fresh database file."""
    values: dict[str, Any] = {
        "smtp": "127.0.0.1:0",
        "http": "127.0.0.1:0",
        "db": str(tmp_path / "sandbox.db"),
    }
    values.update(overrides)
    return Settings.from_env(environ={}, **values)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """A PostgreSQL cluster for the session, started by the first test that needs one."""
    try:
        cluster = Cluster.start()
    except ClusterError as exc:
        pytest.fail(str(exc))
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def backend() -> str:
    """The storage backend of the test's sandboxes (suites on both override it)."""
    return SQLITE


class Databases:
    """The ``--db`` values a test (or module) gives its sandboxes, on its backend."""

    def __init__(self, backend: str, request: pytest.FixtureRequest) -> None:
        self.backend = backend
        self._request = request
        self._made: list[str] = []
        self._default: str | None = None

    @property
    def cluster(self) -> Cluster:
        cluster: Cluster = self._request.getfixturevalue("postgres_cluster")
        return cluster

    def new(self, directory: Path, *, migrated: bool = True) -> str:
        """A new database: a file in ``directory``, or a PostgreSQL database (migrated, or
        empty) dropped at the end."""
        if self.backend == SQLITE:
            return str(directory / "sandbox.db")
        url = self.cluster.database(migrated=migrated)
        self._made.append(url)
        return url

    def default(self, directory: Path) -> str:
        """The one database every sandbox of this test (or module) shares by default: a
        sandbox started again finds what the one before stored, as with a file."""
        if self._default is None:
            self._default = self.new(directory)
        return self._default

    def drop_all(self) -> None:
        for url in self._made:
            self.cluster.drop(url)


class SandboxStarter:
    """Starts sandboxes with custom settings on the test's backend; stops them all at the end."""

    def __init__(self, directory: Path, databases: Databases) -> None:
        self.directory = directory
        self.databases = databases
        self.started: list[RunningSandbox] = []

    def __call__(self, **overrides: Any) -> RunningSandbox:
        overrides.setdefault("db", self.databases.default(self.directory))
        running = start_in_thread(make_settings(self.directory, **overrides))
        self.started.append(running)
        return running

    def stop_all(self) -> None:
        for running in self.started:
            running.stop()


@pytest.fixture
def databases(backend: str, request: pytest.FixtureRequest) -> Iterator[Databases]:
    """The test's databases (dropped after its sandboxes stopped)."""
    made = Databases(backend, request)
    yield made
    made.drop_all()


@pytest.fixture(scope="module")
def module_databases(backend: str, request: pytest.FixtureRequest) -> Iterator[Databases]:
    made = Databases(backend, request)
    yield made
    made.drop_all()


@pytest.fixture
def sandbox_factory(
    tmp_path: Path, databases: Databases
) -> Iterator[Callable[..., RunningSandbox]]:
    """Start sandboxes with custom settings; all are stopped at the end of the test."""
    starter = SandboxStarter(tmp_path, databases)
    yield starter
    starter.stop_all()


@pytest.fixture(scope="module")
def module_sandbox_factory(
    tmp_path_factory: pytest.TempPathFactory, module_databases: Databases
) -> Iterator[Callable[..., RunningSandbox]]:
    """Like ``sandbox_factory``, for sandboxes a whole module shares."""
    starter = SandboxStarter(tmp_path_factory.mktemp("shared"), module_databases)
    yield starter
    starter.stop_all()


@pytest.fixture
def running(sandbox_factory: Callable[..., RunningSandbox]) -> RunningSandbox:
    """A sandbox with default settings."""
    return sandbox_factory()


@pytest.fixture
def api(running: RunningSandbox) -> Iterator[httpx.Client]:
    """An HTTP client pointed at the running sandbox."""
    with httpx.Client(base_url=running.url, timeout=30) as client:
        yield client


@pytest.fixture
def smtp(running: RunningSandbox) -> Iterator[smtplib.SMTP]:
    """An SMTP client connected to the running sandbox."""
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=30) as client:
        yield client
