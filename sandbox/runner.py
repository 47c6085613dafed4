"""Serve the sandbox: :class:`SandboxServer` (uvicorn + the sandbox's life cycle), used by
``mailsandbox serve`` in the main thread and by :func:`start_in_thread` in a background one
(the test suite and the pytest plugin). Ports may be 0: the real ones are read back once the
servers listen.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import signal
import socket
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import uvicorn
from fastapi import FastAPI

from mailsandbox import startup
from mailsandbox.api import websocket
from mailsandbox.app import create_app
from mailsandbox.config import Settings
from mailsandbox.http_limits import protocol_class
from mailsandbox.runtime import Sandbox
from mailsandbox.smtp.drain import drain

T = TypeVar("T")
HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)
SHUTDOWN_GRACE = 0.5  # seconds for requests in flight to end before connections are closed
ReadyCallback = Callable[[Sandbox], None]


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
        scheme = "https" if self.settings.tls_enabled("http") else "http"
        return f"{scheme}://{self.http_host}:{self.http_port}"

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


def server_config(app: FastAPI) -> uvicorn.Config:
    """How uvicorn serves the app, for ``mailsandbox serve`` and in-thread sandboxes alike
    (on a socket bound beforehand: see :func:`~mailsandbox.startup.bind_http`)."""
    settings: Settings = app.state.sandbox.settings
    certificate, key = https_files(settings)
    return uvicorn.Config(
        app,
        ssl_certfile=certificate,
        ssl_keyfile=key,
        log_level="warning",
        lifespan="on",
        http=protocol_class(settings),  # httptools with read timeouts and limits, a connection cap
        # A backstop: at shutdown streams and long polls end at once (``Sandbox.begin_shutdown``);
        # only a request stuck elsewhere could still hold it, and is cancelled after this.
        timeout_graceful_shutdown=2,
        **websocket.UVICORN_OPTIONS,
    )


def https_files(settings: Settings) -> tuple[str | None, str | None]:
    """uvicorn's ``ssl_certfile`` and ``ssl_keyfile`` for ``--http-tls`` (None: plain HTTP).
    The pair is loaded here once, so a bad file is a one-line ``ValueError`` before serving."""
    from mailsandbox.smtp import tls  # cryptography: only when TLS is set up

    pair = tls.configured_pair(
        settings.http_tls, settings.http_tls_cert, settings.http_tls_key, settings.data_dir
    )
    if pair is None:
        return None, None
    tls.server_context(*pair)
    return str(pair[0]), str(pair[1])


class SandboxServer(uvicorn.Server):
    """uvicorn's server around the sandbox: starts it before the app's lifespan (so start-up
    errors reach the caller as they are), calls ``on_ready`` once SMTP and HTTP both listen,
    ends live streams and long polls before closing connections, and treats SIGINT/SIGTERM
    as a normal exit (uvicorn re-raises them after shutdown; we return)."""

    def __init__(self, config: uvicorn.Config, on_ready: ReadyCallback | None = None) -> None:
        super().__init__(config)
        self.app: FastAPI = config.app  # type: ignore[assignment]
        self.on_ready = on_ready

    @property
    def sandbox(self) -> Sandbox:
        sandbox: Sandbox = self.app.state.sandbox
        return sandbox

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await self.sandbox.start()
        await super().startup(sockets)
        if self.started and self.on_ready is not None:
            self.on_ready(self.sandbox)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        sandbox = self.sandbox
        sandbox.ready = False  # /readyz answers 503: a load balancer sends no more work here
        sandbox.begin_shutdown()
        # SMTP stops accepting; messages being sent are stored and acknowledged, the other
        # sessions get 421 (see mailsandbox.smtp.drain); all before the database closes.
        waits: list[Awaitable[Any]] = [drain(sandbox.smtp_handler, sandbox.listeners)]
        # Let the requests in flight (streams and waits end now) finish before uvicorn
        # closes their connections: a WebSocket gets its 1001 close, a wait its 503.
        tasks = set(self.server_state.tasks)
        if tasks:
            waits.append(asyncio.wait(tasks, timeout=SHUTDOWN_GRACE))
        await asyncio.gather(*waits)
        await super().shutdown(sockets)
        await self.sandbox.stop()  # done by the lifespan already, unless it never ran

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in HANDLED_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def start_in_thread(
    settings: Settings, timeout: float = 20.0, app: FastAPI | None = None
) -> RunningSandbox:
    """Start a sandbox (``app``, by default ``create_app(settings)``) on a thread of its own;
    returns once it serves. A start-up failure (port in use, bad database...) is raised here,
    as the :class:`StartupError` it is."""
    sock = startup.bind_http(settings.http_address)
    try:
        app = app or create_app(settings)
        config = server_config(app)
    except BaseException:
        sock.close()
        raise
    ready: concurrent.futures.Future[None] = concurrent.futures.Future()
    server = SandboxServer(config, on_ready=lambda _: ready.set_result(None))

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:
            sock.close()
            if ready.done():
                raise
            ready.set_exception(exc)
        else:
            if not ready.done():
                ready.set_exception(RuntimeError("sandbox stopped while starting"))

    thread = threading.Thread(target=run, name="mailsandbox", daemon=True)
    thread.start()
    try:
        ready.result(timeout)
    except concurrent.futures.TimeoutError:
        server.should_exit = True
        raise RuntimeError("sandbox failed to start in time") from None
    bound = sock.getsockname()
    return RunningSandbox(app, server, thread, str(bound[0]), int(bound[1]))
