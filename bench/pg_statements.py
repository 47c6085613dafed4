"""Statements per ingested message in team mode: what one SMTP message costs PostgreSQL.

Starts the throwaway cluster of ``tests/postgres.py`` with ``pg_stat_statements`` loaded, one
``serve`` replica on it, warms it up, resets the statistics, sends ``--messages`` 5 KB
messages over ``--conns`` connections (``bench/smtp_ingest.py``'s client), and prints every
statement the server ran meanwhile: calls per message, its share of the calls and of the
server's execution time, and the total; then the CPU per message of the replica and of the
PostgreSQL server, and the requests sent to PostgreSQL per message: TCP data segments, from
``ss`` (each round trip is one, more only for a request bigger than a segment).

With ``--profile FILE`` it also records the replica with py-spy (``--threads --idle``, raw
collapsed stacks: ``--profiler`` names the program) during the measured load.

With ``--baseline COMMIT`` the replica runs the package as of ``COMMIT`` instead (its tree first
on ``PYTHONPATH``, ``bench/startup.py``'s ``package_tree``): the same count before a change.

    .venv/bin/python bench/pg_statements.py [--messages 1000] [--conns 8] [--profile FILE]
        [--baseline COMMIT]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
from smtp_ingest import (
    BENCH,
    Target,
    free_port,
    kill_all,
    launch_sandbox,
    postmaster_pid,
    run_load,
)
from startup import package_tree

sys.path.insert(0, str(BENCH.parent))
from tests import postgres  # (the project's root: on the path just above)

STATS = """
SELECT calls, total_exec_time, max_exec_time, regexp_replace(query, '\\s+', ' ', 'g')
FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = %s)
ORDER BY calls DESC, total_exec_time DESC
"""


def segments_to(port: int) -> int:
    """Data segments sent so far to ``127.0.0.1:port`` over the open TCP connections (``ss``):
    the replicas' requests to PostgreSQL, one per round trip (more for a big one)."""
    listing = subprocess.run(
        ["ss", "-tinH", "state", "established", "dst", f"127.0.0.1:{port}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return sum(int(n) for n in re.findall(r"\bdata_segs_out:(\d+)", listing))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1000, help="messages measured")
    parser.add_argument("--conns", type=int, default=8, help="SMTP connections")
    parser.add_argument("--width", type=int, default=110, help="characters of SQL shown")
    parser.add_argument("--profile", type=Path, help="py-spy's collapsed stacks, written here")
    parser.add_argument("--profiler", default="py-spy", help="the py-spy program")
    parser.add_argument("--baseline", metavar="COMMIT", help="run the package as of COMMIT")
    args = parser.parse_args()

    postgres.SETTINGS["shared_preload_libraries"] = "pg_stat_statements"
    postgres.SETTINGS["pg_stat_statements.track"] = "all"
    cluster = postgres.Cluster.start()
    proc = None
    workdir = Path(tempfile.mkdtemp(prefix="mailsandbox-statements-"))
    try:
        tree = package_tree(args.baseline, workdir) if args.baseline else None
        url = cluster.database()
        name = url.rsplit("/", 1)[-1]
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        smtp, http = free_port(), free_port()
        proc = launch_sandbox(url, smtp, http, pythonpath=tree).proc
        target = Target("postgresql", [smtp], [proc.pid], [], postmaster_pid(cluster))
        asyncio.run(run_load(target, args.conns, 200))  # warm-up: prepared statements, caches
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("SELECT pg_stat_statements_reset()")
        spy = None
        if args.profile is not None:
            spy = subprocess.Popen([
                args.profiler, "record", "--pid", str(proc.pid), "--threads", "--idle",
                "--rate", "250", "--format", "raw", "--output", str(args.profile),
            ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        segments = segments_to(cluster.port)
        result = asyncio.run(run_load(target, args.conns, args.messages))
        segments = segments_to(cluster.port) - segments
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            spy.wait(timeout=60)
        sent = args.messages // args.conns * args.conns
        cores = os.cpu_count() or 1
        database_us = (result.database_share or 0) * cores / result.rate * 1e6
        with psycopg.connect(url, autocommit=True) as admin:
            rows = admin.execute(STATS, (name,)).fetchall()
        rows = [r for r in rows if "pg_stat_statements" not in r[3]]
        calls = sum(r[0] for r in rows)
        exec_ms = sum(r[1] for r in rows)
        print(
            f"{sent} messages over {args.conns} connection(s): {result.rate:.0f} msg/s;"
            f" {calls} statements, {calls / sent:.2f} per message,"
            f" {exec_ms / sent * 1000:.0f} µs of server execution per message\n"
            f"CPU per message: replica {result.cpu_us:.0f} µs, PostgreSQL {database_us:.0f} µs;"
            f" requests to PostgreSQL (TCP data segments) per message: {segments / sent:.2f};"
            f" cores: replica {result.server_share:.0%},"
            f" postgres {result.database_share or 0:.0%}, client {result.client_share:.0%}\n"
        )
        print(f"{'per msg':>8}{'calls %':>8}{'time %':>8}{'mean µs':>8}{'max ms':>8}  statement")
        for count, spent, longest, query in rows:
            print(
                f"{count / sent:8.2f}{100 * count / calls:8.1f}{100 * spent / exec_ms:8.1f}"
                f"{spent / count * 1000:8.0f}{longest:8.1f}  {query[: args.width]}"
            )
        return 0
    finally:
        if proc is not None:
            kill_all([proc])
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
