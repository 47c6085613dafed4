"""Ctrl-C / SIGTERM with live clients: a browser tab on the UI, SSE and WebSocket feeds, waits.

A real ``python -m mailsandbox serve`` process; its clients are real: Chromium with the inbox
open (its live stream is connected), an SSE reader of ``/api/v1/stream``, a WebSocket client
of ``/api/events`` and two pending ``/api/v1/wait`` long polls. At the signal the process
exits 0 on its own (uvicorn's graceful-shutdown backstop never fires, no traceback), each
wait gets a 503 with a JSON error, each stream ends with a complete response and the
WebSocket with a clean 1001 close.
"""

from __future__ import annotations

import asyncio
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import websockets
from playwright.sync_api import Browser, expect

from tests.sandbox.serve_process import ServeProcess, start_serve

BACKSTOP = "timeout graceful shutdown exceeded"  # uvicorn's message when it cancels requests


async def read_sse(client: httpx.AsyncClient, path: str, opened: asyncio.Event) -> list[str]:
    """Every line of the stream until the server ends it (raises if it is cut off)."""
    lines: list[str] = []
    async with client.stream("GET", path) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            lines.append(line)
            if not line:  # the end of the first frame: the stream is live
                opened.set()
    return lines


async def read_ws(url: str, opened: asyncio.Event) -> tuple[int | None, list[str]]:
    frames: list[str] = []
    async with websockets.connect(url) as ws:
        async for frame in ws:
            frames.append(str(frame))
            opened.set()
        return ws.close_code, frames


async def wait_call(client: httpx.AsyncClient) -> httpx.Response:
    return await client.get("/api/v1/wait", params={"query": "never", "timeout": "120"})


async def stop_with_clients(server: ServeProcess, stop_signal: int) -> dict[str, object]:
    ws_url = server.url.replace("http://", "ws://") + "/api/events"
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        opened = [asyncio.Event() for _ in range(3)]
        streams = [
            asyncio.create_task(read_sse(client, "/api/v1/stream", opened[0])),
            asyncio.create_task(read_sse(client, "/ui/events", opened[1])),
        ]
        ws = asyncio.create_task(read_ws(ws_url, opened[2]))
        waits = [asyncio.create_task(wait_call(client)) for _ in range(2)]
        await asyncio.wait_for(asyncio.gather(*(event.wait() for event in opened)), 30)
        # A request sent after the waits is answered after they were read: they are pending.
        assert (await client.get("/readyz")).status_code == 200
        assert not any(task.done() for task in waits)
        signalled = time.monotonic()
        server.proc.send_signal(stop_signal)
        results = await asyncio.wait_for(asyncio.gather(*streams, ws, *waits), 30)
        code = await asyncio.to_thread(server.proc.wait, 30)
        return {
            "code": code,
            "seconds": time.monotonic() - signalled,
            "sse": results[0],
            "ui": results[1],
            "ws": results[2],
            "waits": results[3:],
        }


@pytest.mark.browser
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_stop_with_browser_streams_and_waits(
    tmp_path: Path, browser: Browser, stop_signal: int
) -> None:
    server = start_serve(tmp_path / "mail.db")
    context = browser.new_context(base_url=server.url)
    try:
        tab = context.new_page()
        tab.goto("/")
        expect(tab.locator("body")).to_have_attribute("data-live", "on")  # its SSE is open
        # Playwright's sync API owns this thread's event loop: the clients get a thread.
        with ThreadPoolExecutor(1) as clients:
            outcome = clients.submit(asyncio.run, stop_with_clients(server, stop_signal)).result()
        expect(tab.locator("body")).to_have_attribute("data-live", "off")
    finally:
        context.close()
        server.stop()

    assert outcome["code"] == 0
    stderr = server.stderr()
    assert "Traceback" not in stderr and BACKSTOP not in stderr, stderr
    for response in outcome["waits"]:  # type: ignore[attr-defined]
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("application/json")
        assert response.json() == {"Error": "mailsandbox is shutting down"}
    sse: list[str] = outcome["sse"]  # type: ignore[assignment]
    assert sse[:2] == ["event: stats", sse[1]] and sse[1].startswith("data: {")
    ui: list[str] = outcome["ui"]  # type: ignore[assignment]
    assert ui[0] == "retry: 500"
    close_code, frames = outcome["ws"]  # type: ignore[misc]
    assert close_code == 1001
    assert frames and '"Type":"stats"' in frames[0]
    print(f"exit after {outcome['seconds']:.2f} s")  # the figure, for the report (-s)
