"""Run a whole sandbox (HTTP + SMTP on one loop) in a background thread.

Used by the test suite and the pytest plugin; ``mailsandbox serve`` runs the same app in the
main thread instead. Ports may be 0: the real ones are read back once the servers listen.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import uvicorn
from fastapi import FastAPI

from mailsandbox.api import websocket
from mailsandbox.app import create_app
from mailsandbox.config import Settings
from mailsandbox.http_limits import protocol_class
from mailsandbox.runtime import Sandbox

T = TypeVar("T")


@dataclass
class RunningSandbox:
    app: FastAPI
    server: uvicorn.Server
    thread: threading.Thread
    http_host: str
    http_port: int

    @property
    def sandbox(self) -> Sandbox:
        sandbox: Sandbox = self.app.state.sandbox
        return sandbox

    @property
    def url(self) -> str:
        return f"http://{self.http_host}:{self.http_port}"

    @property
    def smtp_port(self) -> int:
        return self.sandbox.smtp_address[1]

    @property
    def smtp_host(self) -> str:
        return self.sandbox.smtp_address[0]

    @property
    def settings(self) -> Settings:
        return self.sandbox.settings

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run a coroutine on the sandbox's own loop (from a test thread) and wait for it."""
        loop = self.sandbox.loop
        assert loop is not None, "sandbox not started"
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)

    def stop(self, timeout: float = 15.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise RuntimeError("sandbox did not stop in time")


def server_config(app: FastAPI, host: str, port: int) -> uvicorn.Config:
    """How uvicorn serves the app, for ``mailsandbox serve`` and in-thread sandboxes alike."""
    settings: Settings = app.state.sandbox.settings
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        http=protocol_class(settings),  # h11 with header/body read timeouts, a connection cap
        # An open SSE stream or a pending long-poll would otherwise hold shutdown forever.
        timeout_graceful_shutdown=2,
        **websocket.UVICORN_OPTIONS,
    )


def start_in_thread(
    settings: Settings, timeout: float = 20.0, app: FastAPI | None = None
) -> RunningSandbox:
    """Serve ``app`` (by default ``create_app(settings)``) from a background thread."""
    app = app or create_app(settings)
    host, port = settings.http_address
    server = uvicorn.Server(server_config(app, host, port))
    thread = threading.Thread(target=server.run, name="mailsandbox", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("sandbox failed to start")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()
    return RunningSandbox(app, server, thread, str(bound[0]), int(bound[1]))
