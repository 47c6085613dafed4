"""A throwaway PostgreSQL cluster for tests and benchmarks: Debian's server, never mocked.

:class:`Cluster` runs ``initdb`` into a temporary directory and starts ``postgres`` on a free
port of 127.0.0.1 (fsync off: a test database need not survive a power cut). PostgreSQL
refuses to run as root, and CI runs as root: then the cluster runs as the ``postgres`` user
(``runuser``), in a directory made that user's. Missing binaries fail the test with the Debian
packages that provide them, as ``.ci/run`` installs them (never a skip).

Tests get a fresh database each (``CREATE DATABASE ... TEMPLATE``): from a template migrated
once per cluster (every add-on's migrations, as ``create_app`` lists them), or empty.

    cluster = Cluster.start()
    url = cluster.database()            # migrated, e.g. postgresql://postgres@127.0.0.1:5999/t3
    cluster.stop()
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

DEBIAN_PACKAGES = "postgresql postgresql-contrib"
SUPERUSER = "postgres"
TEMPLATE = "mailsandbox_template"
SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "400",
    "shared_buffers": "64MB",
}


class ClusterError(RuntimeError):
    """The cluster could not be started (missing binaries are one, with the packages)."""


def bin_dir() -> Path:
    """Where Debian's PostgreSQL server programs are (the newest version installed)."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if versions:
        return versions[-1].parent
    found = shutil.which("initdb")
    if found is None:
        raise ClusterError(
            f"PostgreSQL's initdb is required (apt-get install {DEBIAN_PACKAGES});"
            " .ci/run installs it"
        )
    return Path(found).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    """Root may not run PostgreSQL: run ``command`` as the ``postgres`` user then."""
    if os.geteuid() != 0:
        return command
    runuser = shutil.which("runuser")
    if runuser is None:
        raise ClusterError("runuser is required to run PostgreSQL as root (util-linux)")
    return [runuser, "-u", SUPERUSER, "--", *command]


def _make_directory() -> Path:
    """A new private directory in the system's temporary one; as root, the ``postgres``
    user's (a directory in /tmp needs no other permission on the way to it)."""
    directory = Path(tempfile.mkdtemp(prefix="mailsandbox-pg-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam(SUPERUSER)
        os.chown(directory, user.pw_uid, user.pw_gid)
    return directory


@dataclass
class Cluster:
    """A running PostgreSQL cluster of its own (see the module docstring)."""

    directory: Path
    port: int
    _names: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @classmethod
    def start(cls) -> Cluster:
        programs = bin_dir()
        directory = _make_directory()
        data, log = directory / "data", directory / "server.log"
        run = subprocess.run(
            _as_server_user([
                str(programs / "initdb"), "-D", str(data), "-U", SUPERUSER,
                "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
            ]),
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if run.returncode != 0:
            raise ClusterError(f"initdb failed:\n{run.stdout}{run.stderr}")
        port = free_port()
        options = " ".join(f"-c {k}={v}" for k, v in {**SETTINGS, "port": port}.items())
        options += f" -c unix_socket_directories={directory}"
        run = subprocess.run(
            _as_server_user([
                str(programs / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options,
                "-w", "-t", "60", "start",
            ]),
            capture_output=True, text=True, timeout=90,
        )  # fmt: skip
        if run.returncode != 0:
            server_log = log.read_text() if log.exists() else ""
            raise ClusterError(f"pg_ctl start failed:\n{run.stdout}{run.stderr}{server_log}")
        cluster = cls(directory, port)
        cluster._make_template()
        return cluster

    def url(self, database: str = SUPERUSER) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.url(), autocommit=True)

    def _make_template(self) -> None:
        """The database every test's copies: migrated by a sandbox, as it would be."""
        from mailsandbox.app import create_app
        from tests.conftest import make_settings

        with self.admin() as conn:
            conn.execute(f"CREATE DATABASE {TEMPLATE}")
        sandbox = create_app(make_settings(self.directory, db=self.url(TEMPLATE))).state.sandbox
        sandbox.db.open()
        sandbox.db.close()

    def database(self, *, migrated: bool = True) -> str:
        """A new database (migrated, or empty) and its URL."""
        name = f"t{next(self._names)}"
        source = TEMPLATE if migrated else "template0"
        with self.admin() as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {source}")
        return self.url(name)

    def drop(self, url: str) -> None:
        """Drop the database of ``url`` (whoever is still connected is cut off)."""
        name = url.rsplit("/", 1)[-1]
        with self.admin() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        subprocess.run(
            _as_server_user([
                str(bin_dir() / "pg_ctl"), "-D", str(self.directory / "data"), "-m",
                "immediate", "-w", "stop",
            ]),
            capture_output=True, timeout=60,
        )  # fmt: skip
        shutil.rmtree(self.directory, ignore_errors=True)
