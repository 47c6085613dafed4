"""Team mode under test: two or three real ``mailsandbox serve`` replicas on one database of
the session's throwaway PostgreSQL cluster (tests/postgres.py).

The replicas share a working directory (their data directory in team mode, where the
webhook signing keys live), as replicas sharing a volume would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.postgres import Cluster
from tests.sandbox.serve_process import (
    ServeProcess,
    free_port,
    launch_serve,
    serve_command,
    wait_ready,
)


class Replicas:
    """Replicas of one sandbox on the database ``url``; all killed at the end."""

    def __init__(self, url: str, directory: Path) -> None:
        self.url = url
        self.directory = directory
        self.started: list[ServeProcess] = []

    def launch(self, *extra: str) -> ServeProcess:
        """Start one more replica (``serve --db URL EXTRA``) without waiting for it."""
        ports = (free_port(), free_port())
        command = serve_command(self.url, *extra, smtp_port=ports[0], http_port=ports[1])
        output = self.directory / f"replica{len(self.started) + 1}"
        replica = launch_serve(output, command=command, ports=ports, cwd=self.directory)
        self.started.append(replica)
        return replica

    def start(self, *extra: str) -> ServeProcess:
        """Start one more replica; returns once it answers ``/readyz``."""
        return wait_ready(self.launch(*extra))

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` read straight from the shared database."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(sql, args).fetchall()

    def stop_all(self) -> None:
        for replica in self.started:
            replica.stop()


@pytest.fixture
def replicas(postgres_cluster: Cluster, tmp_path: Path) -> Iterator[Replicas]:
    """Replicas on a new, migrated database (dropped at the end)."""
    made = Replicas(postgres_cluster.database(), tmp_path)
    yield made
    made.stop_all()
    postgres_cluster.drop(made.url)


@pytest.fixture
def empty_replicas(postgres_cluster: Cluster, tmp_path: Path) -> Iterator[Replicas]:
    """Replicas on a new, empty database: the first replicas to start migrate it."""
    made = Replicas(postgres_cluster.database(migrated=False), tmp_path)
    yield made
    made.stop_all()
    postgres_cluster.drop(made.url)
