"""The HTTP layer alone: server CPU per request of one small JSON response, served by uvicorn
with its h11 protocol, its httptools protocol, and the sandbox's (``mailsandbox.http_limits``:
httptools with the read deadlines and limits, the head and body written in one send).

Each server is its own process running a bare ASGI app (no FastAPI: the protocol is what
differs), loaded over 8 keep-alive connections by ``bench/api_send.py``'s client; the servers
alternate, round after round, and the medians of the server's CPU µs per request (from
``/proc``, steadier than throughput on a shared machine) are printed.

    .venv/bin/python bench/http_protocol.py [--requests 5000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_send import measure, run_load, wait_http
from smtp_ingest import free_port

PROTOCOLS = ("h11", "httptools", "sandbox")
REQUEST = b"POST /send HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}"
BODY = b'{"id":"<0123456789abcdef@example.com>","message":"Queued. Thank you."}'


async def app(scope: dict, receive, send) -> None:  # type: ignore[no-untyped-def,type-arg]
    if scope["type"] != "http":
        return
    await receive()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(BODY))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": BODY})


def serve(protocol: str, port: int) -> None:
    import uvicorn

    http: object = protocol
    if protocol == "sandbox":
        from mailsandbox.http_limits import LimitedProtocol

        http = LimitedProtocol
    uvicorn.run(app, host="127.0.0.1", port=port, http=http, log_level="warning")  # type: ignore[arg-type]


def main() -> int:
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2], int(sys.argv[3]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    ports = {name: free_port() for name in PROTOCOLS}
    servers = {
        name: subprocess.Popen([sys.executable, __file__, "--serve", name, str(port)])
        for name, port in ports.items()
    }
    cpu: dict[str, list[float]] = {name: [] for name in PROTOCOLS}
    try:
        for name, port in ports.items():
            wait_http(f"http://127.0.0.1:{port}/", servers[name])
            asyncio.run(run_load(port, REQUEST, 1000))  # warm-up
        for _ in range(args.rounds):
            for name, port in ports.items():
                _, cpu_us, statuses = measure(servers[name].pid, port, REQUEST, args.requests)
                if set(statuses) != {200}:
                    raise RuntimeError(f"{name}: statuses {sorted(set(statuses))}")
                cpu[name].append(cpu_us)
    finally:
        for proc in servers.values():
            proc.terminate()
            proc.wait(10)
    print(f"server CPU µs per request, medians of {args.rounds} (min-max):")
    for name, values in cpu.items():
        print(
            f"  {name:<10} {statistics.median(values):6.1f}  ({min(values):.1f}-{max(values):.1f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
