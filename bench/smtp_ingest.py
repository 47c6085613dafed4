"""SMTP ingest benchmark: the sandbox against a bare aiosmtpd sink, in the same run.

Both servers run in their own process and listen with ``loop.create_server`` (the sandbox as
``python -m mailsandbox serve``; the sink as stock aiosmtpd whose handler discards each message).
One asyncio client sends 5 KB messages over 1 and over 8 connections (PIPELINING for
MAIL/RCPT/DATA) and prints messages/s, the server's CPU per message, and the sandbox/sink ratio.
At the end every acknowledged message must be listed by the API and, after a ``kill -9`` of
the sandbox, present in the SQLite file: acknowledged means durable.

    .venv/bin/python bench/smtp_ingest.py [--messages 2000] [--rounds 2]
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


async def run_load(port: int, pid: int, conns: int, total: int, acks: list[bytes]) -> Result:
    template = message_body()
    before, start = cpu_seconds(pid), time.perf_counter()
    per_conn = total // conns
    await asyncio.gather(*(send_over(port, per_conn, template, acks) for _ in range(conns)))
    elapsed, cpu = time.perf_counter() - start, cpu_seconds(pid) - before
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


def start_sandbox(db: Path, smtp_port: int, http_port: int, *extra: str) -> subprocess.Popen[bytes]:
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000, help="messages per measurement")
    parser.add_argument(
        "--rounds", type=int, default=2, help="measure each case N times, keep best"
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="mailsandbox-bench-"))
    sink_port, smtp_port, http_port = free_port(), free_port(), free_port()
    sink = subprocess.Popen([sys.executable, __file__, "--sink", str(sink_port)])
    sandbox = start_sandbox(workdir / "bench.db", smtp_port, http_port)
    acks: list[bytes] = []
    try:
        wait_port(sink_port, sink)
        asyncio.run(run_load(smtp_port, sandbox.pid, 8, 200, acks))  # warm up both
        asyncio.run(run_load(sink_port, sink.pid, 8, 200, []))
        print(f"{'case':<22}{'sink msg/s':>12}{'sandbox msg/s':>15}{'ratio':>8}"
              f"{'sink CPU/msg':>15}{'sandbox CPU/msg':>17}")  # fmt: skip
        for conns in (1, 8):
            best: dict[str, Result] = {}
            for _ in range(args.rounds):
                for name, port, pid, sink_acks in (
                    ("sink", sink_port, sink.pid, []),
                    ("sandbox", smtp_port, sandbox.pid, acks),
                ):
                    result = asyncio.run(run_load(port, pid, conns, args.messages, sink_acks))
                    if name not in best or result.rate > best[name].rate:
                        best[name] = result
            s, b = best["sink"], best["sandbox"]
            print(
                f"{f'{conns} connection(s)':<22}{s.rate:>12.0f}{b.rate:>15.0f}"
                f"{b.rate / s.rate:>7.0%}{s.cpu_us:>12.0f} us{b.cpu_us:>14.0f} us",
                flush=True,
            )
        listed = listed_ids(http_port)
        missing_listed = [a for a in acks if a not in listed]
        sandbox.send_signal(signal.SIGKILL)
        sandbox.wait()
        with sqlite3.connect(workdir / "bench.db") as conn:
            stored = {row[0].encode() for row in conn.execute("SELECT id FROM messages")}
        missing_stored = [a for a in acks if a not in stored]
        print(
            f"acknowledged {len(acks)}; listed by the API {len(acks) - len(missing_listed)};"
            f" in the database after kill -9: {len(acks) - len(missing_stored)}"
        )
        return 1 if missing_listed or missing_stored else 0
    finally:
        for proc in (sink, sandbox):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--sink":
        run_sink(int(sys.argv[2]))
    else:
        sys.exit(main())
