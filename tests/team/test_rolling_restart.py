"""compose.team.yml's topology with processes: a rolling restart during an SMTP burst loses
nothing.

Two real ``mailsandbox serve`` replicas on one throwaway PostgreSQL database, behind Debian's
haproxy running ``deploy/haproxy.cfg`` (the file compose mounts). Client threads send through
haproxy's SMTP port as applications do: a message not acknowledged with 250 (a 421 from a
replica shutting down, a dropped connection) is sent again, on a new connection. Meanwhile
replica 1 is stopped with SIGTERM, waited for, seen down by haproxy, started again and seen up;
then replica 2. Meanwhile a reader polls the message list through haproxy's HTTP: every
request is answered (a replica that stops finishes what it serves, haproxy retries a refused
connection elsewhere). Afterwards haproxy's HTTP lists every acknowledged message exactly
once, under the id its 250 gave, and nothing else.
"""

from __future__ import annotations

import contextlib
import re
import signal
import smtplib
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.postgres import Cluster
from tests.sandbox.serve_process import ServeProcess, free_port, launch_serve, wait_ready
from tests.team.haproxy import HAProxy
from tests.waiting import eventually

CLIENTS = 4
MESSAGES_PER_CONNECTION = 5  # then QUIT and connect again, so new sessions keep spreading
MAX_ATTEMPTS = 50  # per message: a client that can never deliver fails the test
QUEUED = re.compile(r"queued as (\w+)")


@dataclass
class Replica:
    """One ``serve`` process on fixed ports (haproxy's config names them), restartable."""

    name: str
    db: str
    directory: Path
    smtp_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    server: ServeProcess | None = None

    def launch(self) -> None:
        command = [
            sys.executable, "-m", "mailsandbox", "serve", "--db", self.db,
            "--smtp", f"127.0.0.1:{self.smtp_port}", "--http", f"127.0.0.1:{self.http_port}",
            "--max-messages", "0",
        ]  # fmt: skip
        log = self.directory / f"{self.name}-{time.monotonic_ns()}"
        ports = (self.smtp_port, self.http_port)
        self.server = launch_serve(log, command=command, ports=ports)

    def wait_ready(self) -> None:
        assert self.server is not None
        wait_ready(self.server, timeout=60)

    def terminate(self) -> None:
        """SIGTERM, as ``docker stop`` sends; the replica must exit by itself, with 0."""
        assert self.server is not None
        self.server.proc.send_signal(signal.SIGTERM)
        assert self.server.proc.wait(30) == 0, self.server.stderr()

    def kill(self) -> None:
        if self.server is not None:
            self.server.stop()


@dataclass
class Burst:
    """Client threads sending until told to stop; what each 250 acknowledged, and when."""

    smtp_port: int
    acknowledged: dict[str, str] = field(default_factory=dict)  # subject -> id from the 250
    ack_times: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)  # why attempts were not acked
    errors: list[BaseException] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, client: int) -> None:
        try:
            sent, connection = 0, None
            while not self.stopping.is_set():
                subject = f"burst {client}-{sent}"
                connection = self.deliver(subject, connection)
                sent += 1
                if sent % MESSAGES_PER_CONNECTION == 0:
                    connection.quit()
                    connection = None
        except BaseException as exc:  # reported by the test
            self.errors.append(exc)

    def deliver(self, subject: str, connection: smtplib.SMTP | None) -> smtplib.SMTP:
        """Send until a 250 acknowledges it; returns the connection to carry on with."""
        raw = f"Subject: {subject}\r\nFrom: app@example.com\r\n\r\nbody of {subject}\r\n"
        for _ in range(MAX_ATTEMPTS):
            try:
                connection = connection or smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30)
                connection.ehlo_or_helo_if_needed()
                refused = self.refusal("MAIL", connection.mail("app@example.com"))
                refused = refused or self.refusal("RCPT", connection.rcpt("user@example.com"))
                data = connection.data(raw.encode()) if not refused else (0, b"")
                refused = refused or self.refusal("DATA", data)
            except (smtplib.SMTPException, OSError) as exc:
                self.count(type(exc).__name__)
                refused = True
            if refused:  # a 421 from a replica shutting down, a dropped connection: again
                connection = self.drop(connection)
                continue
            found = QUEUED.search(data[1].decode())
            assert found, data
            with self.lock:
                self.acknowledged[subject] = found.group(1)
                self.ack_times.append(time.monotonic())
            return connection
        raise AssertionError(f"{subject} not acknowledged after {MAX_ATTEMPTS} attempts")

    def refusal(self, stage: str, reply: tuple[int, bytes]) -> bool:
        if reply[0] == 250:
            return False
        self.count(f"{stage} {reply[0]}")
        return True

    def count(self, failure: str) -> None:
        with self.lock:
            self.failures[failure] += 1

    @staticmethod
    def drop(connection: smtplib.SMTP | None) -> None:
        if connection is not None:
            with contextlib.suppress(OSError):
                connection.close()
        return None

    def acked_between(self, start: float, end: float) -> int:
        with self.lock:
            return sum(start <= t <= end for t in self.ack_times)


@dataclass
class Reader:
    """Lists messages through haproxy until told to stop; counts what was not a 200."""

    url: str
    answered: int = 0
    failed: list[str] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as api:
            while not self.stopping.is_set():
                try:
                    status = api.get("/api/v1/messages", params={"limit": 5}).status_code
                except httpx.HTTPError as exc:
                    self.failed.append(repr(exc))
                    continue
                if status == 200:
                    self.answered += 1
                else:
                    self.failed.append(str(status))


@pytest.fixture
def replicas(postgres_cluster: Cluster, tmp_path: Path) -> Iterator[list[Replica]]:
    db = postgres_cluster.database()
    started = [Replica(f"replica{n}", db, tmp_path) for n in (1, 2)]
    try:
        for replica in started:
            replica.launch()
        for replica in started:
            replica.wait_ready()
        yield started
    finally:
        for replica in started:
            replica.kill()
        postgres_cluster.drop(db)


@pytest.fixture
def proxy(replicas: list[Replica], tmp_path: Path) -> Iterator[HAProxy]:
    running = HAProxy.start(tmp_path, [(r.http_port, r.smtp_port) for r in replicas])
    try:
        eventually(lambda: set(running.statuses().values()) == {"UP"}, timeout=20, what="both UP")
        yield running
    finally:
        running.stop()


def listed(proxy: HAProxy) -> Counter[tuple[str, str]]:
    """Every stored message as (subject, id), through haproxy's HTTP, page by page."""
    found: Counter[tuple[str, str]] = Counter()
    with httpx.Client(base_url=proxy.url, timeout=30) as api:
        start = 0
        while True:
            page = api.get("/api/v1/messages", params={"start": start, "limit": 500})
            page.raise_for_status()
            batch = page.json()["messages"]
            if not batch:
                return found
            found.update((m["Subject"], m["ID"]) for m in batch)
            start += len(batch)


def test_a_rolling_restart_during_an_smtp_burst_loses_nothing(
    replicas: list[Replica], proxy: HAProxy
) -> None:
    burst, reader = Burst(proxy.smtp_port), Reader(proxy.url)
    threads = [threading.Thread(target=burst.run, args=(n,)) for n in range(CLIENTS)]
    threads.append(threading.Thread(target=reader.run))
    for thread in threads:
        thread.start()
    try:
        eventually(lambda: len(burst.acknowledged) >= 20, timeout=20, what="the burst is on")
        for replica in replicas:
            down_at = time.monotonic()
            replica.terminate()
            eventually(lambda: proxy.status(replica.name) == "DOWN", timeout=15)  # noqa: B023
            replica.launch()
            replica.wait_ready()
            eventually(lambda: proxy.status(replica.name) == "UP", timeout=15)  # noqa: B023
            # The other replica took the mail meanwhile.
            assert burst.acked_between(down_at, time.monotonic()) > 0, replica.name
        done = len(burst.acknowledged)
        eventually(lambda: len(burst.acknowledged) >= done + 20, timeout=20, what="after")
    finally:
        burst.stopping.set()
        reader.stopping.set()
        for thread in threads:
            thread.join(60)
    assert not burst.errors, burst.errors
    assert not any(thread.is_alive() for thread in threads)
    assert reader.answered > 0 and not reader.failed, reader.failed

    stored = listed(proxy)
    expected = Counter((subject, id_) for subject, id_ in burst.acknowledged.items())
    assert stored == expected, (
        f"missing: {expected - stored}; extra or duplicated: {stored - expected};"
        f" attempts not acknowledged: {dict(burst.failures)}"
    )
    print(
        f"acknowledged {len(expected)}; attempts not acknowledged: {dict(burst.failures)};"
        f" lists answered through haproxy: {reader.answered}"
    )
