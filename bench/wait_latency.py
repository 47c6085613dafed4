"""``wait_for`` latency: from a message's commit to the client's ``wait_for`` returning it.

A sandbox runs in this process (HTTP + SMTP on free ports, SQLite in a temp dir). For each of N
rounds a thread calls ``Client.inbox(...).wait_for(subject=...)`` (the server-side long poll,
then GET of the whole message); once the server holds the waiter's subscription, the message is
sent over SMTP. The commit time is taken on the server's bus (``new`` is published right after
the COMMIT), with the same clock as the waiter's return. Target: p95 under 50 ms.

    .venv/bin/python bench/wait_latency.py [--waits 200]
"""

from __future__ import annotations

import argparse
import smtplib
import statistics
import tempfile
import threading
import time
from email.message import EmailMessage
from pathlib import Path

from mailsandbox.bus import BusEvent
from mailsandbox.client import Client
from mailsandbox.config import Settings
from mailsandbox.runner import RunningSandbox, start_in_thread

TARGET_MS = 50.0
COMMITS: dict[str, float] = {}  # subject -> when its ``new`` event was published


def record_commit(event: BusEvent) -> None:
    if event.type == "new":
        COMMITS[event.data.subject] = time.perf_counter()


def one_round(running: RunningSandbox, client: Client, smtp: smtplib.SMTP, n: int) -> float:
    """Milliseconds from the commit of message ``n`` to ``wait_for`` returning it."""
    subject = f"bench {n}"
    returned: list[float] = []
    subscribers = running.sandbox.bus.subscriber_count

    def wait() -> None:
        msg = client.wait_for(subject=subject, timeout=10)
        returned.append(time.perf_counter())
        assert msg.subject == subject

    waiter = threading.Thread(target=wait)
    waiter.start()
    while running.sandbox.bus.subscriber_count <= subscribers:  # the long poll is listening
        time.sleep(0.0005)
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "app@example.com", "ann@example.com", subject
    msg.set_content(f"Your verification code is {100000 + n}.")
    smtp.send_message(msg)
    waiter.join(15)
    return (returned[0] - COMMITS[subject]) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--waits", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(
            environ={}, smtp="127.0.0.1:0", http="127.0.0.1:0", db=str(Path(tmp) / "bench.db")
        )
        running = start_in_thread(settings)
        running.sandbox.bus.on(record_commit)
        try:
            with (
                Client(running.url) as client,
                smtplib.SMTP(running.smtp_host, running.smtp_port) as smtp,
            ):
                one_round(running, client, smtp, -1)  # warm-up: connections, caches
                latencies = [one_round(running, client, smtp, n) for n in range(args.waits)]
        finally:
            running.stop()
    ordered = sorted(latencies)
    p50 = statistics.median(ordered)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    print(f"wait_for after commit over {len(ordered)} waits (ms):")
    print(f"  p50 {p50:.1f}  p95 {p95:.1f}  max {ordered[-1]:.1f}  min {ordered[0]:.1f}")
    verdict = "OK" if p95 <= TARGET_MS else "OVER TARGET"
    print(f"  target: p95 <= {TARGET_MS:.0f} ms -> {verdict}")


if __name__ == "__main__":
    main()
