"""Webhook latency benchmark: a burst of SendGrid API sends with the Event Webhook on (signed),
delivered to a local receiver; every event must arrive exactly once.

The sandbox runs in its own process (``python -m mailsandbox serve``); this process sends with
``CONCURRENCY`` asyncio clients and runs the receiver (a threaded ``http.server``). Each send
carries a custom arg naming it, so each webhook event is matched to its send. Prints the p50 /
p90 / p99 time from the start of the send request to the arrival of its ``processed`` and
``delivered`` events (target: p50 under 1 s with the default retry schedule), the number of
POSTs (SendGrid batches events), and verifies every batch's ECDSA signature.

    .venv/bin/python bench/webhooks.py [--sends 1000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.api_send import free_port, start_sandbox  # noqa: E402
from tests.sandbox.events.receiver import Receiver  # noqa: E402

EVENTS = ("processed", "delivered")
FLAGS = {flag: flag in EVENTS for flag in ("processed", "delivered", "bounce", "open")}


def configure_webhook(base: str, url: str) -> str:
    headers = {"Authorization": "Bearer SG.bench"}
    settings = {"enabled": True, "url": url, **FLAGS}
    httpx.patch(f"{base}/v3/user/webhooks/event/settings", json=settings, headers=headers)
    signed = httpx.patch(
        f"{base}/v3/user/webhooks/event/settings/signed", json={"enabled": True}, headers=headers
    )
    return str(signed.json()["public_key"])


def mail(n: int) -> dict[str, object]:
    return {
        "personalizations": [{"to": [{"email": f"user{n}@example.com"}]}],
        "from": {"email": "bench@example.com"},
        "subject": f"Bench {n}",
        "content": [{"type": "text/plain", "value": "Hello from the webhook benchmark."}],
        "custom_args": {"bench_n": str(n)},
    }


async def send_all(base: str, sends: int, concurrency: int) -> dict[int, float]:
    started: dict[int, float] = {}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(sends):
        queue.put_nowait(n)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            n = queue.get_nowait()
            started[n] = time.time()
            response = await client.post("/v3/mail/send", json=mail(n))
            if response.status_code != 202:
                raise SystemExit(f"send {n} failed: {response.status_code} {response.text}")

    headers = {"Authorization": "Bearer SG.bench"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return started


def verify(public_key_b64: str, receiver: Receiver) -> None:
    key = serialization.load_der_public_key(base64.b64decode(public_key_b64))
    assert isinstance(key, ec.EllipticCurvePublicKey)
    for request in receiver.requests:
        signature = base64.b64decode(request.headers["X-Twilio-Email-Event-Webhook-Signature"])
        stamp = request.headers["X-Twilio-Email-Event-Webhook-Timestamp"].encode()
        key.verify(signature, stamp + request.body, ec.ECDSA(hashes.SHA256()))


def percentiles(values: list[float]) -> str:
    cuts = statistics.quantiles(values, n=100)
    return (
        f"p50 {cuts[49] * 1000:.0f} ms  p90 {cuts[89] * 1000:.0f} ms  p99 {cuts[98] * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    receiver = Receiver()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        proc = start_sandbox(Path(tmp) / "bench.db", port)
        try:
            base = f"http://127.0.0.1:{port}"
            public_key = configure_webhook(base, receiver.url + "/events")
            t0 = time.time()
            started = asyncio.run(send_all(base, args.sends, args.concurrency))
            sent_in = time.time() - t0
            deadline = time.monotonic() + args.timeout
            arrivals: dict[tuple[int, str], float] = {}
            seen_ids: set[str] = set()
            duplicates = 0
            while len(arrivals) < args.sends * len(EVENTS) and time.monotonic() < deadline:
                time.sleep(0.2)
                arrivals, seen_ids, duplicates = {}, set(), 0
                for request in receiver.accepted:
                    for event in request.json():
                        duplicates += event["sg_event_id"] in seen_ids
                        seen_ids.add(event["sg_event_id"])
                        arrivals[(int(event["bench_n"]), event["event"])] = request.at
        finally:
            proc.terminate()
            proc.wait(10)
    verify(public_key, receiver)
    expected = args.sends * len(EVENTS)
    print(f"{args.sends} sends in {sent_in:.2f} s ({args.sends / sent_in:.0f}/s), "
          f"{len(receiver.requests)} webhook POSTs, {len(arrivals)}/{expected} events, "
          f"{duplicates} duplicates, all signatures valid")  # fmt: skip
    for name in EVENTS:
        latencies = [at - started[n] for (n, kind), at in arrivals.items() if kind == name]
        if len(latencies) > 1:
            print(f"send → {name:9} webhook: {percentiles(latencies)}")
    receiver.close()
    if len(arrivals) != expected or duplicates:
        raise SystemExit("FAILED: events missing or duplicated")


if __name__ == "__main__":
    main()
