"""What the HTTP guards cost per request: the security middleware (Host check, route table,
cross-site and credential checks, response headers) against a pass-through middleware, in the
same run, in process (no sockets, so the figure is the guards' own CPU time).

    .venv/bin/python bench/http_guards.py [--requests 20000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mailsandbox.api.security import SecurityMiddleware
from mailsandbox.app import create_app
from mailsandbox.config import Settings

HEADERS = [
    (b"host", b"127.0.0.1:8025"),
    (b"content-type", b"application/json"),
    (b"content-length", b"5428"),
    (b"authorization", b"Bearer SG.key"),
    (b"user-agent", b"sendgrid/6.11;python"),
]
REQUESTS = [
    ("POST", "/v3/mail/send"),
    ("POST", "/v3/mg.example.com/messages"),
    ("GET", "/api/v1/messages"),
    ("GET", "/view/3xYabcdefghijklmnopqr"),
]


async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x-id", b"1")]})
    await send({"type": "http.response.body", "body": b""})


class PassThrough:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


async def per_request(app: ASGIApp, method: str, path: str, count: int, rounds: int) -> float:
    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        pass

    def scope() -> Scope:
        return {"type": "http", "method": method, "path": path, "headers": HEADERS,
                "query_string": b""}  # fmt: skip

    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(count):
            await app(scope(), receive, send)
        best = min(best, (time.perf_counter() - started) / count)
    return best * 1e6


async def main(count: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(Settings(db=str(Path(folder) / "bench.db")))
        guards = SecurityMiddleware(endpoint, app.state.surface, app.state.sandbox.settings)
        bare = PassThrough(endpoint)
        for method, path in REQUESTS:
            baseline = await per_request(bare, method, path, count, rounds)
            guarded = await per_request(guards, method, path, count, rounds)
            print(f"{method} {path}: guards {guarded:.1f} µs, pass-through {baseline:.1f} µs, "
                  f"cost {guarded - baseline:.1f} µs per request")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.rounds))
