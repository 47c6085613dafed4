"""Debian's haproxy in front of sandbox replicas, on the one config ``compose.team.yml`` uses.

``deploy/haproxy.cfg`` takes its addresses from the environment; here they are free ports of
127.0.0.1 and the replicas' own. :meth:`HAProxy.status` reads what haproxy thinks of each
replica from its stats page (CSV), which is what a test waits on after restarting one.

    proxy = HAProxy.start(tmp_path, [(http1, smtp1), (http2, smtp2)])
    eventually(lambda: proxy.status("replica1") == "UP")
    proxy.stop()
"""

from __future__ import annotations

import csv
import io
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.sandbox.serve_process import clean_env, free_port
from tests.tools import require_program
from tests.waiting import eventually

CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "haproxy.cfg"
HTTP_BACKEND = "http_replicas"  # the backend whose checks (GET /readyz) SMTP's servers track


def address(port: int) -> str:
    return f"127.0.0.1:{port}"


@dataclass
class HAProxy:
    proc: subprocess.Popen[bytes]
    http_port: int
    smtp_port: int
    stats_port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://{address(self.http_port)}"

    @classmethod
    def start(cls, directory: Path, replicas: list[tuple[int, int]]) -> HAProxy:
        """haproxy on free ports in front of ``replicas`` (HTTP port, SMTP port) each."""
        program = require_program("haproxy", "haproxy")
        http_port, smtp_port, stats_port = free_port(), free_port(), free_port()
        env = {
            "MAILSANDBOX_LB_HTTP": address(http_port),
            "MAILSANDBOX_LB_SMTP": address(smtp_port),
            "MAILSANDBOX_LB_STATS": address(stats_port),
        }
        for n, (replica_http, replica_smtp) in enumerate(replicas, 1):
            env[f"MAILSANDBOX_REPLICA{n}_HTTP"] = address(replica_http)
            env[f"MAILSANDBOX_REPLICA{n}_SMTP"] = address(replica_smtp)
        log = directory / "haproxy.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [program, "-db", "-f", str(CONFIG)],
                stdout=out, stderr=subprocess.STDOUT, env=clean_env(env),
            )  # fmt: skip
        proxy = cls(proc, http_port, smtp_port, stats_port, log)
        try:
            eventually(proxy.statuses, timeout=15, what="haproxy answers its stats page")
        except BaseException:
            proxy.stop()
            raise
        return proxy

    def statuses(self) -> dict[str, str]:
        """Each replica's state as haproxy's checks see it (UP, DOWN, ...), by server name."""
        if self.proc.poll() is not None:
            raise RuntimeError(f"haproxy exited with {self.proc.returncode}:\n{self.output()}")
        try:
            page = httpx.get(f"http://{address(self.stats_port)}/;csv", timeout=5)
        except httpx.HTTPError:
            return {}
        rows = csv.DictReader(io.StringIO(page.text.lstrip("# ")))
        return {
            row["svname"]: row["status"].split()[0]  # "UP 1/2" while rising: still going up
            for row in rows
            if row["pxname"] == HTTP_BACKEND and row["svname"] not in ("FRONTEND", "BACKEND")
        }

    def status(self, server: str) -> str:
        return self.statuses().get(server, "")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(10)
