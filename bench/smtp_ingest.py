"""SMTP ingest benchmark: the sandbox against a bare aiosmtpd sink, in the same run.

Both servers run in their own process and listen with ``loop.create_server`` (the sandbox as
``python -m mailsandbox serve``; the sink as stock aiosmtpd whose handler discards each message).
One asyncio client sends 5 KB messages over 1 and over 8 connections (PIPELINING for
MAIL/RCPT/DATA) and prints messages/s, the server's CPU per message, and the sandbox/sink ratio.
At the end every acknowledged message must be listed by the API and, after a ``kill -9`` of
the sandbox, present in the SQLite file: acknowledged means durable.

With ``--postgres`` the same run also measures team mode on a throwaway PostgreSQL cluster
(``tests/postgres.py``): one replica, and two replicas on one database with the client's
connections spread over both (CPU per message then sums both replicas). Its acknowledged
messages too must be in the database after a ``kill -9`` of the replicas.

    .venv/bin/python bench/smtp_ingest.py [--messages 2000] [--rounds 2] [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

FROM, TO = "bench@example.com", "inbox@example.com"
QUEUED = re.compile(rb"queued as (\w+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def message_body(size: int = 5 * 1024) -> bytes:
    """A 5 KB text message (already dot-stuffed, CRLF, ready for DATA)."""
    line = b"The quick brown fox jumps over the lazy dog, again and again and again.\r\n"
    body = line * (size // len(line))
    return (
        f"From: Bench <{FROM}>\r\nTo: <{TO}>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n".encode()
        + b"Subject: benchmark message %d\r\n\r\n"
        + body
    )


async def read_reply(reader: asyncio.StreamReader) -> bytes:
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("server closed the connection")
        if line[3:4] != b"-":
            return line


async def send_over(port: int, count: int, template: bytes, acks: list[bytes]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await read_reply(reader)
    writer.write(b"EHLO bench.example.com\r\n")
    await read_reply(reader)
    envelope = f"MAIL FROM:<{FROM}>\r\nRCPT TO:<{TO}>\r\nDATA\r\n".encode()
    for _ in range(count):
        writer.write(envelope)
        for _ in range(3):
            await read_reply(reader)
        writer.write(template.replace(b"%d", str(len(acks)).encode(), 1) + b".\r\n")
        reply = await read_reply(reader)
        if reply.startswith(b"250"):
            found = QUEUED.search(reply)
            acks.append(found.group(1) if found else b"")
    writer.write(b"QUIT\r\n")
    await read_reply(reader)
    writer.close()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    rate: float  # messages per second
    cpu_us: float  # server CPU per message


@dataclass
class Target:
    """One server (or several replicas of one sandbox): the client spreads connections over
    ``ports``; CPU is read from every process of ``pids``."""

    name: str
    ports: list[int]
    pids: list[int]
    acks: list[bytes]


async def run_load(target: Target, conns: int, total: int) -> Result:
    template = message_body()
    pids, ports = target.pids, target.ports
    before, start = sum(map(cpu_seconds, pids)), time.perf_counter()
    per_conn = total // conns
    await asyncio.gather(
        *(send_over(ports[n % len(ports)], per_conn, template, target.acks) for n in range(conns))
    )
    elapsed, cpu = time.perf_counter() - start, sum(map(cpu_seconds, pids)) - before
    sent = per_conn * conns
    return Result(sent / elapsed, cpu / sent * 1e6)


# --- the two servers ---------------------------------------------------------------------
def run_sink(port: int) -> None:
    """Stock aiosmtpd on ``loop.create_server``; its handler discards every message."""
    from aiosmtpd.smtp import SMTP

    class Discard:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            return "250 OK"

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(Discard(), enable_SMTPUTF8=True, decode_data=False, loop=loop),
            "127.0.0.1",
            port,
        )
        await server.serve_forever()

    asyncio.run(main())


def wait_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited early")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def start_sandbox(
    db: Path | str, smtp_port: int, http_port: int, *extra: str
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "mailsandbox", "serve", "--db", str(db), "--max-messages", "0",
        "--smtp", f"127.0.0.1:{smtp_port}", "--http", f"127.0.0.1:{http_port}",
        "--log-level", "warning", *extra,
    ]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        wait_port(smtp_port, proc)
        wait_port(http_port, proc)  # uvicorn binds after the lifespan started SMTP
        httpx.get(f"http://127.0.0.1:{http_port}/readyz", timeout=10).raise_for_status()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return proc


def listed_ids(http_port: int) -> set[bytes]:
    found: set[bytes] = set()
    with httpx.Client(base_url=f"http://127.0.0.1:{http_port}", timeout=60) as api:
        start = 0
        while True:
            page = api.get("/api/v1/messages", params={"start": start, "limit": 1000}).json()
            found.update(m["ID"].encode() for m in page["messages"])
            if not page["messages"]:
                return found
            start += len(page["messages"])


@dataclass
class Sandbox:
    """A sandbox under test: its replicas (processes and HTTP ports) and its database."""

    db: Path | str
    procs: list[subprocess.Popen[bytes]]
    http_ports: list[int]
    target: Target

    @classmethod
    def start(cls, name: str, db: Path | str, replicas: int = 1) -> Sandbox:
        procs: list[subprocess.Popen[bytes]] = []
        smtp_ports, http_ports = [], []
        try:
            for _ in range(replicas):
                smtp_ports.append(free_port())
                http_ports.append(free_port())
                procs.append(start_sandbox(db, smtp_ports[-1], http_ports[-1]))
        except BaseException:
            kill_all(procs)
            raise
        return cls(db, procs, http_ports, Target(name, smtp_ports, [p.pid for p in procs], []))

    def check_durable(self) -> bool:
        """Every acknowledged message listed by the API, and stored after ``kill -9``."""
        acks = self.target.acks
        listed = listed_ids(self.http_ports[-1])
        missing_listed = [a for a in acks if a not in listed]
        kill_all(self.procs)
        stored = stored_ids(self.db)
        missing_stored = [a for a in acks if a not in stored]
        print(
            f"{self.target.name}: acknowledged {len(acks)}; listed by the API"
            f" {len(acks) - len(missing_listed)}; in the database after kill -9:"
            f" {len(acks) - len(missing_stored)}",
            flush=True,
        )
        return not missing_listed and not missing_stored


def stored_ids(db: Path | str) -> set[bytes]:
    query = "SELECT id FROM messages"
    if isinstance(db, str):  # a PostgreSQL URL
        import psycopg

        with psycopg.connect(db) as pg:
            return {str(row[0]).encode() for row in pg.execute(query)}
    with sqlite3.connect(db) as conn:
        return {row[0].encode() for row in conn.execute(query)}


def kill_all(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()


def postgres_cluster() -> Any:
    """A throwaway cluster (``tests/postgres.py``: Debian's server, as the tests run it)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.postgres import Cluster

    return Cluster.start()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000, help="messages per measurement")
    parser.add_argument(
        "--rounds", type=int, default=2, help="measure each case N times, keep best"
    )
    parser.add_argument(
        "--postgres", action="store_true", help="also PostgreSQL: one replica and two"
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="mailsandbox-bench-"))
    sink_port = free_port()
    sink = subprocess.Popen([sys.executable, __file__, "--sink", str(sink_port)])
    cluster = postgres_cluster() if args.postgres else None
    sandboxes: list[Sandbox] = []
    try:
        sandboxes.append(Sandbox.start("sqlite", workdir / "bench.db"))
        if cluster is not None:
            sandboxes.append(Sandbox.start("postgresql", cluster.database()))
            sandboxes.append(Sandbox.start("postgresql x2", cluster.database(), replicas=2))
        wait_port(sink_port, sink)
        sink_target = Target("sink", [sink_port], [sink.pid], [])
        for target in [sink_target, *(s.target for s in sandboxes)]:  # warm up each
            asyncio.run(run_load(target, 8, 200))
        print(f"{'case':<36}{'sink msg/s':>12}{'sandbox msg/s':>15}{'ratio':>8}"
              f"{'sink CPU/msg':>15}{'sandbox CPU/msg':>17}")  # fmt: skip
        for conns in (1, 8):
            targets = [s.target for s in sandboxes if conns >= len(s.target.ports)]
            best: dict[str, Result] = {}
            for _ in range(args.rounds):
                for target in (sink_target, *targets):  # alternately, the sink first
                    result = asyncio.run(run_load(target, conns, args.messages))
                    if target.name not in best or result.rate > best[target.name].rate:
                        best[target.name] = result
            s = best["sink"]
            for target in targets:
                b = best[target.name]
                case = f"{target.name}, {conns} connection(s)"
                print(
                    f"{case:<36}{s.rate:>12.0f}{b.rate:>15.0f}"
                    f"{b.rate / s.rate:>7.0%}{s.cpu_us:>12.0f} us{b.cpu_us:>14.0f} us",
                    flush=True,
                )
        durable = [sandbox.check_durable() for sandbox in sandboxes]
        return 0 if all(durable) else 1
    finally:
        kill_all([sink, *(p for s in sandboxes for p in s.procs)])
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--sink":
        run_sink(int(sys.argv[2]))
    else:
        sys.exit(main())
