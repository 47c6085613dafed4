"""The Docker image and compose files, checked without a Docker engine.

``Dockerfile`` and ``docker-compose.yml`` are parsed; then the image's ENTRYPOINT + CMD run
here as a real process with the environment the container would have (the image's ENV, then
compose's ``environment``), only the ports moved to free ones and ``/data`` to a temporary
directory. Its HEALTHCHECK command runs against it too. What this proves: every
``MAILSANDBOX_*`` setting reaches ``mailsandbox serve`` (no flag in CMD overrides one), the
published ports and the volume are where the process listens and writes, and a ``/data`` the
container's user cannot write is one clear line.

``compose.team.yml`` (team mode) is checked the same way: its replicas are the image with
compose's environment, on one PostgreSQL database (a throwaway cluster here), and haproxy's
config is the one tests/team/test_rolling_restart.py runs, with every address it needs.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import smtplib
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from mailsandbox.config import ENV_PREFIX, setting_fields
from mailsandbox.smtp import drain
from tests.postgres import Cluster
from tests.sandbox.serve_process import (
    clean_env,
    free_port,
    launch_serve,
    unwritable_for_serve,
    wait_ready,
)
from tests.tools import require_program

ROOT = Path(__file__).resolve().parent.parent
LB_SERVICES = ("HTTP", "SMTP", "STATS")  # haproxy's frontends in deploy/haproxy.cfg
VENV_BIN = Path(sys.executable).parent  # where `pip install` put the `mailsandbox` program


@dataclass
class Image:
    """What the Dockerfile says about the image (the instructions this test relies on)."""

    env: dict[str, str] = field(default_factory=dict)
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def one(self, name: str) -> str:
        values = [args for instruction, args in self.instructions if instruction == name]
        assert len(values) == 1, f"expected one {name}, found {values}"
        return values[0]

    def exec_form(self, name: str) -> list[str]:
        value = json.loads(self.one(name))
        assert isinstance(value, list), f"{name} must be in exec (JSON) form"
        return [str(v) for v in value]

    @property
    def healthcheck(self) -> list[str]:
        options, _, command = self.one("HEALTHCHECK").partition("CMD ")
        assert all(o.startswith("--") for o in options.split()), options
        return [str(v) for v in json.loads(command)]


def parse_dockerfile(text: str) -> Image:
    image = Image()
    logical = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not logical and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            logical += stripped[:-1] + " "
            continue
        logical += stripped
        instruction, _, args = logical.partition(" ")
        image.instructions.append((instruction.upper(), args.strip()))
        if instruction.upper() == "ENV":
            for pair in shlex.split(args):
                key, _, value = pair.partition("=")
                image.env[key] = value
        logical = ""
    return image


@pytest.fixture(scope="module")
def image() -> Image:
    return parse_dockerfile((ROOT / "Dockerfile").read_text())


@pytest.fixture(scope="module")
def service() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    (only,) = compose["services"].values()
    return dict(only)


def container_port(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def test_dockerfile_and_compose_agree(image: Image, service: dict[str, Any]) -> None:
    assert image.exec_form("ENTRYPOINT") == ["mailsandbox"]
    cmd = image.exec_form("CMD")
    assert cmd == ["serve"], "settings go in ENV: a flag in CMD would override the environment"
    assert image.healthcheck == ["mailsandbox", "healthcheck"]
    assert image.one("USER") == "mailsandbox"
    assert "--uid 1000" in image.one("RUN")  # the uid the bind-mount advice names
    assert image.one("WORKDIR") == "/app"
    for source in ("pyproject.toml", "README.md", "sandbox", "web", "emulators"):
        assert any(source in args.split() for i, args in image.instructions if i == "COPY")
        assert (ROOT / source).exists()

    env = image.env
    assert env["MAILSANDBOX_SMTP"].startswith("0.0.0.0:")  # reachable from outside
    assert env["MAILSANDBOX_HTTP"].startswith("0.0.0.0:")
    volume = json.loads(image.one("VOLUME")) if "[" in image.one("VOLUME") else image.one("VOLUME")
    assert Path(env["MAILSANDBOX_DB"]).parent == Path(volume)
    exposed = {int(port) for port in image.one("EXPOSE").split()}
    listened = {container_port(env["MAILSANDBOX_SMTP"]), container_port(env["MAILSANDBOX_HTTP"])}
    assert exposed == listened

    published = {int(mapping.rsplit(":", 1)[1]) for mapping in service["ports"]}
    assert published == listened
    assert all(mapping.startswith("127.0.0.1:") for mapping in service["ports"])
    assert any(mount.endswith(f":{volume}") for mount in service["volumes"])
    settings = {ENV_PREFIX + f.name.upper() for f in setting_fields()}
    for name in service["environment"]:
        assert name in settings, f"{name} is not a setting: it would be ignored"


def container_env(image: Image, service: dict[str, Any], data: Path) -> dict[str, str]:
    """The container's environment: the image's ENV, then compose's (which wins), with the
    ports moved to free ones and /data to ``data``."""
    env = {**image.env, **{k: str(v) for k, v in service["environment"].items()}}
    env["MAILSANDBOX_SMTP"] = f"0.0.0.0:{free_port()}"
    env["MAILSANDBOX_HTTP"] = f"0.0.0.0:{free_port()}"
    env["MAILSANDBOX_DB"] = str(data / Path(env["MAILSANDBOX_DB"]).name)
    return env


def here(command: list[str]) -> list[str]:
    """An exec-form command with its program taken from this virtualenv."""
    return [str(VENV_BIN / command[0]), *command[1:]]


def run_here(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        here(command), env=clean_env(env), capture_output=True, text=True, timeout=60
    )


def test_entrypoint_and_cmd_serve_with_the_compose_environment(
    image: Image, service: dict[str, Any], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    env = container_env(image, service, data)
    ports = (container_port(env["MAILSANDBOX_SMTP"]), container_port(env["MAILSANDBOX_HTTP"]))
    command = here(image.exec_form("ENTRYPOINT") + image.exec_form("CMD"))
    assert run_here(image.healthcheck, env).returncode == 1  # nothing listens yet
    server = launch_serve(tmp_path / "serve", command=command, env=env, ports=ports)
    try:
        wait_ready(server)
        assert f"smtp://0.0.0.0:{ports[0]}" in server.banner
        assert f"Database {env['MAILSANDBOX_DB']}" in server.banner
        with smtplib.SMTP("127.0.0.1", ports[0], timeout=10) as client:
            client.sendmail("a@example.com", ["b@example.com"], b"Subject: in docker\r\n\r\nx\r\n")
        listing = httpx.get(f"{server.url}/api/v1/messages", timeout=10).json()
        assert [m["Subject"] for m in listing["messages"]] == ["in docker"]
        assert Path(env["MAILSANDBOX_DB"]).exists()  # in the volume

        healthy = run_here(image.healthcheck, env)
        assert healthy.returncode == 0, healthy.stderr
    finally:
        server.stop()
    unhealthy = run_here(image.healthcheck, env)
    assert unhealthy.returncode == 1
    assert unhealthy.stderr.startswith("mailsandbox healthcheck: ")
    assert len(unhealthy.stderr.splitlines()) == 1


def test_a_root_owned_bind_mount_says_what_to_do(
    image: Image, service: dict[str, Any], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    prefix = unwritable_for_serve(data)
    env = container_env(image, service, data)
    command = [*prefix, *here(image.exec_form("ENTRYPOINT") + image.exec_form("CMD"))]
    result = subprocess.run(command, env=clean_env(env), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"mailsandbox serve: cannot write to {data}")
    if os.geteuid() == 0:  # the directory belongs to someone else: say whose and what to run
        assert f"chown {os.geteuid()} {data}" in line and "named volume" in line


# --- compose.team.yml: PostgreSQL, two replicas of the same image, haproxy in front -------
@pytest.fixture(scope="module")
def team() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "compose.team.yml").read_text())
    return compose


def replicas_of(team: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in team["services"].items() if name.startswith("replica")}


def test_team_compose_replicas_run_the_image_on_postgresql(
    image: Image, service: dict[str, Any], team: dict[str, Any]
) -> None:
    replicas = replicas_of(team)
    assert len(replicas) == 2
    assert 'pip install ".[postgres]"' in image.one("RUN")  # psycopg, for --db postgresql://
    postgres = team["services"]["postgres"]
    pg_env = postgres["environment"]
    assert postgres["healthcheck"]["test"] == [
        "CMD", "pg_isready", "-U", pg_env["POSTGRES_USER"], "-d", pg_env["POSTGRES_DB"],
    ]  # fmt: skip
    settings = {ENV_PREFIX + f.name.upper() for f in setting_fields()}
    for name, replica in replicas.items():
        assert replica["build"] == service["build"] and replica["image"] == service["image"]
        assert replica["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert replica["healthcheck"]["test"] == ["CMD", *image.healthcheck], name
        for setting in replica["environment"]:
            assert setting in settings, f"{setting} is not a setting: it would be ignored"
        url = replica["environment"]["MAILSANDBOX_DB"]
        assert url == (
            f"postgresql://{pg_env['POSTGRES_USER']}:{pg_env['POSTGRES_PASSWORD']}"
            f"@postgres:5432/{pg_env['POSTGRES_DB']}"
        )
        # Signing keys and TLS pair (the files beside a URL database: the working
        # directory) are one volume for both, writable by the image's user like /data.
        volume = image.one("VOLUME").strip('[]"')
        assert replica["working_dir"] == volume
        assert any(mount.endswith(f":{volume}") for mount in replica["volumes"])
        # SIGTERM drains SMTP (mailsandbox.smtp.drain): twice its grace, before the SIGKILL.
        assert replica["stop_signal"] == "SIGTERM"
        assert int(replica["stop_grace_period"].rstrip("s")) >= 2 * drain.GRACE
    assert replicas["replica1"] == replicas["replica2"]


def haproxy_env(team: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in team["services"]["haproxy"]["environment"].items()}


def test_team_compose_haproxy_fronts_both_replicas_with_the_tested_config(
    image: Image, team: dict[str, Any], tmp_path: Path
) -> None:
    from tests.team.haproxy import CONFIG

    haproxy = team["services"]["haproxy"]
    assert (
        f"./{CONFIG.relative_to(ROOT)}:/usr/local/etc/haproxy/haproxy.cfg:ro"
        in (haproxy["volumes"])
    )
    env = haproxy_env(team)
    lines = [line for line in CONFIG.read_text().splitlines() if not line.lstrip().startswith("#")]
    used = set(re.findall(r"\$\{(\w+)\}", "\n".join(lines)))
    assert used == set(env), "every address the config uses, and only those, is set"
    # haproxy listens where compose publishes, and reaches each replica where it listens.
    published = {int(m.rsplit(":", 1)[1]) for m in haproxy["ports"]}
    assert published == {container_port(env[f"MAILSANDBOX_LB_{k}"]) for k in LB_SERVICES}
    assert all(mapping.startswith("127.0.0.1:") for mapping in haproxy["ports"])
    for name in replicas_of(team):
        for service, setting in (("HTTP", "MAILSANDBOX_HTTP"), ("SMTP", "MAILSANDBOX_SMTP")):
            port = container_port(image.env[setting])
            assert env[f"MAILSANDBOX_{name.upper()}_{service}"] == f"{name}:{port}"
    assert "mailsandbox" in haproxy["networks"]["default"]["aliases"]
    assert "mailsandbox" in replicas_of(team)["replica1"]["environment"]["MAILSANDBOX_ALLOW_HOST"]
    # Debian's haproxy accepts the config with compose's environment.
    program = require_program("haproxy", "haproxy")
    checked = subprocess.run(
        [program, "-c", "-f", str(CONFIG)], env=clean_env(env),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_team_compose_replicas_serve_one_database_with_their_environment(
    image: Image, team: dict[str, Any], postgres_cluster: Cluster, tmp_path: Path
) -> None:
    """Both replicas' ENTRYPOINT + CMD with compose's environment, only the database moved
    to a throwaway cluster: a message sent to one is listed by the other."""
    url = postgres_cluster.database(migrated=False)  # the replicas migrate it themselves
    servers = []
    try:
        for name, replica in replicas_of(team).items():
            data = tmp_path / name
            data.mkdir()
            env = container_env(image, replica, data)
            env["MAILSANDBOX_DB"] = url
            ports = (
                container_port(env["MAILSANDBOX_SMTP"]),
                container_port(env["MAILSANDBOX_HTTP"]),
            )
            command = here(image.exec_form("ENTRYPOINT") + image.exec_form("CMD"))
            servers.append(
                (launch_serve(data / "serve", command=command, env=env, ports=ports), env)
            )
        for server, env in servers:
            wait_ready(server)
            assert "postgresql://" in server.banner
            healthy = run_here(["mailsandbox", "healthcheck"], env)
            assert healthy.returncode == 0, healthy.stderr
        first, second = servers[0][0], servers[1][0]
        with smtplib.SMTP("127.0.0.1", first.smtp_port, timeout=10) as client:
            client.sendmail("a@example.com", ["b@example.com"], b"Subject: team\r\n\r\nx\r\n")
        listing = httpx.get(f"{second.url}/api/v1/messages", timeout=10).json()
        assert [m["Subject"] for m in listing["messages"]] == ["team"]
    finally:
        for server, _ in servers:
            server.stop()
        postgres_cluster.drop(url)
