"""A real local HTTP server recording webhook POSTs, for tests and the benchmark.

``Receiver()`` listens on 127.0.0.1:<free port> in a thread; ``status`` sets what it answers
(change it to simulate an endpoint that is down); ``wait_for(n)`` blocks until ``n`` requests
with a 2xx answer arrived. Use it as a context manager to have it closed.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.waiting import eventually


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[Received] = []
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status = receiver.status
                with receiver._cond:
                    receiver.requests.append(
                        Received(self.path, dict(self.headers), body, status, time.time())
                    )
                    receiver._cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def accepted(self) -> list[Received]:
        with self._cond:
            return [r for r in self.requests if 200 <= r.status < 300]

    def wait_for(self, count: int, timeout: float = 15.0, accepted: bool = True) -> list[Received]:
        def arrived() -> list[Received]:
            with self._cond:
                found = [r for r in self.requests if not accepted or 200 <= r.status < 300]
            assert len(found) >= count, f"only {len(found)} of {count} webhook requests arrived"
            return found

        return eventually(arrived, timeout=timeout)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
