"""SMTP ingest benchmark: mailsandbox beside stock aiosmtpd and maildump, in one run.

Each server runs in its own process, a **fresh process for every measurement** (cell):

* ``mailsandbox``: ``python -m mailsandbox serve --max-messages 0`` on a temporary SQLite file;
* ``aiosmtpd sink``: stock aiosmtpd whose handler discards every message
  (``bench/aiosmtpd_sink.py``, the ceiling of aiosmtpd here);
* ``maildump 1.0``: the SQLite-backed catcher from PyPI (gevent, the standard library's
  ``smtpd``; one commit per message), installed by this script into its own virtualenv,
  ``~/.cache/mailsandbox-bench/maildump``, on first use, and run as its README says
  (``maildump --smtp-port P --http-port H``), twice: with ``--db FILE`` (durable, as the
  sandbox is) and without, its default, an in-memory database (what issue 19's table
  measured, judging by its figures);
* with ``--floor``, ``aiosmtpd + SQLite insert``: the sink committing each message's bytes to
  SQLite before its 250 (``bench/aiosmtpd_sink.py --store``): what durability alone costs,
  with no parsing, no metadata and no search index.

One asyncio client sends 5 KB messages over 1 and over 8 connections, one command per round
trip as Postfix's ``smtp-source`` does (the method of issue 19's table; neither stock aiosmtpd
nor maildump advertises PIPELINING). ``--pipelining`` sends MAIL, RCPT and DATA in one write to
the sink and the sandbox instead (maildump is left out: pipelined, its RCPT and DATA replies
wait ~40 ms per message for the client's delayed ACK, Nagle's algorithm on its side). Cells
alternate between the servers (the order rotates every round); each case is measured
``--rounds`` times and the medians printed: messages/s, p50/p99 latency per message (from
writing the end-of-data ``.`` to reading its reply), the server's CPU time per message (from
``/proc``), idle RSS (``VmRSS`` as soon as the server is ready) and start-up time (exec to
accepting SMTP; and to the first 200 from ``/readyz``, or from maildump's web page); then the
ratios the issue's targets use: mailsandbox / sink and mailsandbox / maildump.

After each of its cells every message the sandbox acknowledged must be listed by the API and,
after a ``kill -9``, present in the database: acknowledged means durable.

With ``--postgres`` the same run also measures team mode on a throwaway PostgreSQL cluster
(``tests/postgres.py``): one replica, and two replicas on one database with the client's
connections spread over both (8 connections only; CPU per message then sums both replicas).

With ``--baseline COMMIT`` team mode is also measured as of ``COMMIT`` (its package tree put
first on ``PYTHONPATH``, ``bench/startup.py``'s ``package_tree``), cells alternating with this
tree's. With PostgreSQL, each measurement also reports the share of the machine's cores used by
the replicas, by the PostgreSQL server (postmaster and backends) and by this load generator.

    .venv/bin/python bench/smtp_ingest.py [--messages 2000] [--rounds 3] [--pipelining]
        [--postgres [--baseline COMMIT]] [--no-maildump] [--floor]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from startup import launch_env, package_tree, working_tree

FROM, TO = "bench@example.com", "inbox@example.com"
QUEUED = re.compile(rb"queued as (\w+)")
BENCH = Path(__file__).resolve().parent
MAILDUMP = "maildump==1.0"
FLOOR = "aiosmtpd + SQLite insert"


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


async def send_over(
    port: int,
    count: int,
    template: bytes,
    acks: list[bytes],
    latencies: list[float],
    pipelining: bool = False,
) -> None:
    """Send ``count`` messages over one connection: one command per round trip as
    ``smtp-source`` does, or with ``pipelining`` MAIL, RCPT and DATA in one write."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await read_reply(reader)
    writer.write(b"EHLO bench.example.com\r\n")
    await read_reply(reader)
    commands = [f"MAIL FROM:<{FROM}>\r\n".encode(), f"RCPT TO:<{TO}>\r\n".encode(), b"DATA\r\n"]
    writes = [b"".join(commands)] if pipelining else commands
    for _ in range(count):
        for write in writes:
            writer.write(write)
            if not pipelining:
                await read_reply(reader)
        if pipelining:
            for _ in commands:
                await read_reply(reader)
        writer.write(template.replace(b"%d", str(len(acks)).encode(), 1) + b".\r\n")
        sent = time.perf_counter()
        reply = await read_reply(reader)
        latencies.append(time.perf_counter() - sent)
        if reply.startswith(b"250"):
            found = QUEUED.search(reply)
            acks.append(found.group(1) if found else b"")
    writer.write(b"QUIT\r\n")
    await read_reply(reader)
    writer.close()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of process ``pid`` with its children, living (read now) and exited (counted
    once reaped): PostgreSQL's postmaster and its backends."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    total = sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # exited meanwhile
            continue
        if int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def client_cpu_seconds() -> float:
    """This process's CPU time: the load generator's."""
    times = os.times()
    return times.user + times.system


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..1)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))]


@dataclass
class Result:
    rate: float  # messages per second
    cpu_us: float  # server CPU per message
    p50_ms: float  # latency per message: end-of-data sent to its reply read
    p99_ms: float
    # Shares of the machine's cores while measuring (CPU seconds / elapsed / cores): the
    # server (every replica), the PostgreSQL server (team mode) and this load generator.
    server_share: float = 0.0
    database_share: float | None = None
    client_share: float = 0.0


@dataclass
class Target:
    """One server (or several replicas of one sandbox): the client spreads connections over
    ``ports``; CPU is read from every process of ``pids``."""

    name: str
    ports: list[int]
    pids: list[int]
    acks: list[bytes]
    database_pid: int | None = None  # PostgreSQL's postmaster (its backends are its children)


async def run_load(target: Target, conns: int, total: int, pipelining: bool = False) -> Result:
    template = message_body()
    pids, ports = target.pids, target.ports
    latencies: list[float] = []
    database = target.database_pid
    db_before = tree_cpu_seconds(database) if database is not None else 0.0
    client_before = client_cpu_seconds()
    before, start = sum(map(cpu_seconds, pids)), time.perf_counter()
    per_conn = total // conns
    await asyncio.gather(
        *(
            send_over(ports[n % len(ports)], per_conn, template, target.acks, latencies, pipelining)
            for n in range(conns)
        )
    )
    elapsed, cpu = time.perf_counter() - start, sum(map(cpu_seconds, pids)) - before
    client = client_cpu_seconds() - client_before
    db = tree_cpu_seconds(database) - db_before if database is not None else None
    sent, cores = per_conn * conns, os.cpu_count() or 1
    return Result(
        sent / elapsed,
        cpu / sent * 1e6,
        percentile(latencies, 0.5) * 1e3,
        percentile(latencies, 0.99) * 1e3,
        cpu / elapsed / cores,
        None if db is None else db / elapsed / cores,
        client / elapsed / cores,
    )


# --- starting a server -------------------------------------------------------------------
def port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for(check: Callable[[], bool], proc: subprocess.Popen[bytes]) -> float:
    """Poll ``check`` every 5 ms (start-up is measured with it) until true; its time."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited early ({proc.returncode})")
        if check():
            return time.perf_counter()
        time.sleep(0.005)
    raise RuntimeError(f"{proc.args!r} did not start")


@dataclass
class Launched:
    """One server process, timed from exec: to accepting SMTP, and to its HTTP readiness
    (``/readyz`` 200 for the sandbox, the web page for maildump); its RSS once ready."""

    proc: subprocess.Popen[bytes]
    smtp_s: float
    ready_s: float | None
    rss_mib: float


def launch(
    command: list[str],
    smtp_port: int,
    ready_url: str | None = None,
    quiet: bool = False,
    pythonpath: Path | None = None,
) -> Launched:
    """Start ``command``; ``quiet`` drops its stderr too (maildump logs every message there).
    The environment is ``bench/startup.py``'s: bytecode caching on, as every user has it;
    ``pythonpath`` (``startup.package_tree``) runs another commit's sandbox (``--baseline``)."""
    start = time.perf_counter()
    stderr = subprocess.DEVNULL if quiet else None
    env = launch_env()
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        smtp_s = wait_for(lambda: port_open(smtp_port), proc) - start
        ready_s = None
        if ready_url is not None:
            ready_s = wait_for(lambda: http_ok(ready_url), proc) - start
        return Launched(proc, smtp_s, ready_s, rss_mib(proc.pid))
    except BaseException:
        kill_all([proc])
        raise


def launch_sandbox(
    db: Path | str, smtp_port: int, http_port: int, *extra: str, pythonpath: Path | None = None
) -> Launched:
    command = [
        sys.executable, "-m", "mailsandbox", "serve", "--db", str(db), "--max-messages", "0",
        "--smtp", f"127.0.0.1:{smtp_port}", "--http", f"127.0.0.1:{http_port}",
        "--log-level", "warning", *extra,
    ]  # fmt: skip
    ready = f"http://127.0.0.1:{http_port}/readyz"
    return launch(command, smtp_port, ready, pythonpath=pythonpath)


def start_sandbox(
    db: Path | str, smtp_port: int, http_port: int, *extra: str, pythonpath: Path | None = None
) -> subprocess.Popen[bytes]:
    """A sandbox process, ready (``/readyz`` answered 200)."""
    return launch_sandbox(db, smtp_port, http_port, *extra, pythonpath=pythonpath).proc


def maildump_program() -> Path:
    """``maildump`` in its own virtualenv, installed on first use. It lives in the user's cache
    (``~/.cache/mailsandbox-bench/maildump``), not in the tree: the layout tests and linters
    that walk ``bench/`` would otherwise read its ~1,400 third-party files."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    venv = cache / "mailsandbox-bench" / "maildump"
    program = venv / "bin" / "maildump"
    if not program.exists():  # pip writes the entry point last: its presence means installed
        if sys.version_info >= (3, 12):
            raise SystemExit("maildump 1.0 needs Python 3.11 or older (asyncore, smtpd)")
        print(f"installing {MAILDUMP} into {venv}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, "--disable-pip-version-check", MAILDUMP], check=True)
    return program


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


# --- one cell: a fresh server for one measurement ----------------------------------------
@dataclass
class Cell:
    """The processes of one server for one measurement; for a sandbox, its database (checked
    after ``kill -9``) and its HTTP ports (for the API listing)."""

    target: Target
    launched: list[Launched]
    db: Path | str | None = None
    http_ports: list[int] = field(default_factory=list)
    cleanup: Callable[[], None] | None = None
    stored: Callable[[], int] | None = None  # the floor's: rows in its database

    def finish(self) -> str:
        """Kill the server; for a sandbox, check that every acknowledged message was listed
        by the API and stored after ``kill -9``; for the floor, that as many rows as
        acknowledgements were stored (raises if not). A line for the report."""
        procs = [launched.proc for launched in self.launched]
        try:
            if self.stored is not None:
                kill_all(procs)
                rows, acked = self.stored(), len(self.target.acks)
                if rows != acked:
                    raise RuntimeError(f"{self.target.name}: {acked} acknowledged, {rows} stored")
                return f"; acknowledged {acked}, after kill -9 {rows}"
            if self.db is None:
                return ""
            acks = self.target.acks
            listed = listed_ids(self.http_ports[-1])
            kill_all(procs)
            stored = stored_ids(self.db)
            n_listed = sum(1 for a in acks if a in listed)
            n_stored = sum(1 for a in acks if a in stored)
            line = f"; acknowledged {len(acks)}, listed {n_listed}, after kill -9 {n_stored}"
            if n_listed != len(acks) or n_stored != len(acks):
                raise RuntimeError(f"{self.target.name}: acknowledged messages lost{line}")
            return line
        finally:
            kill_all(procs)
            if self.cleanup is not None:
                self.cleanup()


@dataclass
class Server:
    name: str
    start: Callable[[Path], Cell]  # a fresh server, given a fresh directory
    min_conns: int = 1  # replicas: each needs a connection of its own


def sink_cell(workdir: Path) -> Cell:
    port = free_port()
    launched = launch([sys.executable, str(BENCH / "aiosmtpd_sink.py"), str(port)], port)
    return Cell(Target("aiosmtpd sink", [port], [launched.proc.pid], []), [launched])


def floor_cell(workdir: Path) -> Cell:
    """The sink committing each message's bytes to SQLite before its 250 (``--floor``)."""
    port = free_port()
    command = [sys.executable, str(BENCH / "aiosmtpd_sink.py"), str(port)]
    db = workdir / "floor.db"
    launched = launch([*command, "--store", str(db)], port)

    def stored() -> int:
        with contextlib.closing(sqlite3.connect(db)) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM mail").fetchone()[0])

    return Cell(Target(FLOOR, [port], [launched.proc.pid], []), [launched], stored=stored)


def maildump_server(program: Path, on_disk: bool) -> Server:
    """maildump with ``--db FILE`` (SQLite's defaults: a rollback journal and an fsync per
    message), or with no ``--db``: its default, an in-memory SQLite database."""
    name = "maildump 1.0 --db file" if on_disk else "maildump 1.0 in memory"

    def start(workdir: Path) -> Cell:
        smtp, http = free_port(), free_port()
        command = [str(program), "--smtp-port", str(smtp), "--http-port", str(http)]
        command += ["--db", str(workdir / "maildump.db")] if on_disk else []
        # It binds SMTP first, then opens its database, then serves HTTP.
        launched = launch(command, smtp, f"http://127.0.0.1:{http}/", quiet=True)
        return Cell(Target(name, [smtp], [launched.proc.pid], []), [launched])

    return Server(name, start)


def sandbox_server(
    name: str,
    database: Callable[[Path], Path | str],
    replicas: int = 1,
    drop: Callable[[Any], None] | None = None,
    database_pid: int | None = None,
    pythonpath: Path | None = None,
) -> Server:
    def start(workdir: Path) -> Cell:
        db = database(workdir)
        launched: list[Launched] = []
        smtp_ports, http_ports = [], []
        try:
            for _ in range(replicas):
                smtp_ports.append(free_port())
                http_ports.append(free_port())
                launched.append(
                    launch_sandbox(db, smtp_ports[-1], http_ports[-1], pythonpath=pythonpath)
                )
        except BaseException:
            kill_all([one.proc for one in launched])
            raise
        pids = [one.proc.pid for one in launched]
        cleanup = (lambda: drop(db)) if drop is not None else None
        target = Target(name, smtp_ports, pids, [], database_pid)
        return Cell(target, launched, db, http_ports, cleanup)

    return Server(name, start, min_conns=replicas)


def postgres_cluster() -> Any:
    """A throwaway cluster (``tests/postgres.py``: Debian's server, as the tests run it)."""
    sys.path.insert(0, str(BENCH.parent))
    from tests.postgres import Cluster

    return Cluster.start()


def postmaster_pid(cluster: Any) -> int:
    """The cluster's postmaster (the first line of its ``postmaster.pid``)."""
    return int((cluster.directory / "data" / "postmaster.pid").read_text().split()[0])


# --- the run -----------------------------------------------------------------------------
def database_share(result: Result) -> str:
    share = result.database_share
    return "" if share is None else f", postgres {share:.0%}"


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def report(
    servers: list[Server],
    results: dict[tuple[str, int], list[Result]],
    starts: dict[str, list[Launched]],
) -> None:
    def med(name: str, conns: int, attr: str) -> float | None:
        runs = results.get((name, conns))
        return statistics.median(getattr(r, attr) for r in runs) if runs else None

    def cell(value: float | None, width: int, digits: int = 0) -> str:
        return f"{'-' if value is None else f'{value:.{digits}f}':>{width}}"

    print(
        f"\n{'server':<30}{'msg/s 1c':>9}{'msg/s 8c':>9}{'p50 ms 8c':>10}{'p99 ms 8c':>10}"
        f"{'p99 ms 1c':>10}{'CPU µs 1c':>10}{'CPU µs 8c':>10}{'idle RSS MiB':>13}"
        f"{'start s':>8}{'ready s':>8}"
    )
    for server in servers:
        name, launched = server.name, starts[server.name]
        ready = [one.ready_s for one in launched if one.ready_s is not None]
        print(
            f"{name:<30}{cell(med(name, 1, 'rate'), 9)}{cell(med(name, 8, 'rate'), 9)}"
            f"{cell(med(name, 8, 'p50_ms'), 10, 2)}{cell(med(name, 8, 'p99_ms'), 10, 2)}"
            f"{cell(med(name, 1, 'p99_ms'), 10, 2)}{cell(med(name, 1, 'cpu_us'), 10)}"
            f"{cell(med(name, 8, 'cpu_us'), 10)}"
            f"{cell(statistics.median(one.rss_mib for one in launched), 13, 1)}"
            f"{cell(statistics.median(one.smtp_s for one in launched), 8, 2)}"
            f"{cell(statistics.median(ready) if ready else None, 8, 2)}"
        )
    print()
    for server in servers:
        if not server.name.startswith("mailsandbox") and server.name != FLOOR:
            continue
        bases = [(s.name, 0.9 if s.name.startswith("maildump") else 0.8) for s in servers]
        for base, goal in bases:
            if base.startswith("mailsandbox") or base == server.name:
                continue
            if server.name == FLOOR and base != "aiosmtpd sink":
                continue  # the floor is measured against the sink only
            ratios = []
            for conns in (1, 8):
                ours, theirs = med(server.name, conns, "rate"), med(base, conns, "rate")
                if ours is not None and theirs is not None:
                    ratios.append(f"{ours / theirs:.2f}x at {conns} connection(s)")
            if ratios:
                floor = FLOOR in (server.name, base)
                bar = "the floor: no target" if floor else f"target >= {goal}x"
                print(f"{server.name} / {base}: {', '.join(ratios)} ({bar})")
    team = [s.name for s in servers if s.name.startswith("mailsandbox postgresql")]
    if team:
        cpu_split(team, results, med)


def cpu_split(
    team: list[str],
    results: dict[tuple[str, int], list[Result]],
    med: Callable[[str, int, str], float | None],
) -> None:
    """Team mode: PostgreSQL against SQLite mode, and where the cores went (medians)."""
    print()
    for name in team:
        ratios = []
        for conns in (1, 8):
            ours, sqlite = med(name, conns, "rate"), med("mailsandbox", conns, "rate")
            if ours is not None and sqlite is not None:
                ratios.append(f"{ours / sqlite:.2f}x at {conns} connection(s)")
        if ratios:
            print(f"{name} / mailsandbox (SQLite): {', '.join(ratios)}")
    print(f"\nshare of the {os.cpu_count()} cores while measuring (medians):")
    print(f"{'server, connections':<36}{'replicas':>9}{'postgres':>9}{'client':>8}{'idle':>7}")
    for name in ["mailsandbox", *team]:
        for conns in (1, 8):
            if (name, conns) not in results:
                continue
            shares = [med(name, conns, attr) for attr in ("server_share", "client_share")]
            database = med(name, conns, "database_share") if name in team else 0.0
            server, client = (share or 0.0 for share in shares)
            idle = 1 - server - client - (database or 0.0)
            print(
                f"{f'{name}, {conns}':<36}{server:>9.0%}"
                f"{'-' if name not in team else f'{database:.0%}':>9}{client:>8.0%}{idle:>7.0%}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000, help="messages per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="cells per case; medians kept")
    parser.add_argument(
        "--warmup", type=int, default=200, help="messages sent to each fresh server first"
    )
    parser.add_argument(
        "--pipelining", action="store_true", help="MAIL, RCPT and DATA in one write"
    )
    parser.add_argument("--no-maildump", action="store_true", help="leave maildump out")
    parser.add_argument(
        "--floor", action="store_true", help="also the sink storing each message in SQLite"
    )
    parser.add_argument(
        "--postgres", action="store_true", help="also PostgreSQL: one replica and two"
    )
    parser.add_argument(
        "--baseline",
        metavar="COMMIT",
        help="with --postgres: also team mode as of COMMIT (its tree first on PYTHONPATH)",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="mailsandbox-bench-"))
    servers = [Server("aiosmtpd sink", sink_cell)]
    if args.floor:
        servers.append(Server(FLOOR, floor_cell))
    if args.pipelining and not args.no_maildump:  # 20-100 msg/s: minutes per cell
        print("--pipelining: maildump left out (pipelined, it stalls ~40 ms per message)")
    elif not args.no_maildump:
        program = maildump_program()
        servers += [maildump_server(program, on_disk=True), maildump_server(program, False)]
    # With a baseline, every cell of this tree runs from PYTHONPATH too (startup.working_tree).
    this_tree = working_tree(workdir / "now") if args.postgres and args.baseline else None
    servers.append(
        sandbox_server("mailsandbox", lambda workdir: workdir / "bench.db", pythonpath=this_tree)
    )
    cluster = postgres_cluster() if args.postgres else None
    if cluster is not None:
        postmaster = postmaster_pid(cluster)
        trees: list[tuple[str, Path | None]] = [("", this_tree)]
        if args.baseline:
            trees.append((f" @{args.baseline}", package_tree(args.baseline, workdir / "base")))
        for suffix, tree in trees:
            for name, replicas in (("postgresql", 1), ("postgresql x2", 2)):
                servers.append(
                    sandbox_server(
                        f"mailsandbox {name}{suffix}",
                        lambda _: cluster.database(),
                        replicas,
                        cluster.drop,
                        postmaster,
                        tree,
                    )
                )
    results: dict[tuple[str, int], list[Result]] = {}
    starts: dict[str, list[Launched]] = {server.name: [] for server in servers}
    print(f"load average at the start: {load_average()}", flush=True)
    try:
        cells = 0
        for round_no in range(args.rounds):
            turn = round_no % len(servers)  # rotate: no server always measured first
            for conns in (1, 8):
                for server in servers[turn:] + servers[:turn]:
                    if conns < server.min_conns:
                        continue
                    cells += 1
                    (workdir / str(cells)).mkdir()
                    cell = server.start(workdir / str(cells))
                    try:
                        load = (cell.target, conns, args.messages, args.pipelining)
                        asyncio.run(run_load(cell.target, 8, args.warmup, args.pipelining))
                        result = asyncio.run(run_load(*load))
                    finally:
                        durable = cell.finish()
                    results.setdefault((server.name, conns), []).append(result)
                    starts[server.name].extend(cell.launched)
                    first = cell.launched[0]
                    ready = "" if first.ready_s is None else f"/{first.ready_s:.2f}"
                    print(
                        f"round {round_no + 1}, {conns} connection(s), {server.name}:"
                        f" {result.rate:.0f} msg/s, p50/p99 {result.p50_ms:.2f}/"
                        f"{result.p99_ms:.2f} ms, CPU {result.cpu_us:.0f} µs/msg;"
                        f" start {first.smtp_s:.2f}{ready} s, idle RSS"
                        f" {first.rss_mib:.1f} MiB; cores: server {result.server_share:.0%}"
                        f"{database_share(result)}, client {result.client_share:.0%}{durable}",
                        flush=True,
                    )
        print(f"load average at the end: {load_average()}")
        report(servers, results, starts)
        return 0
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
