"""Shared fixtures: a real sandbox (HTTP + SMTP on free ports, SQLite in a temp dir) per test."""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mailsandbox.config import Settings
from mailsandbox.runner import RunningSandbox, start_in_thread


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for a test sandbox: loopback, port 0, a fresh database file."""
    values: dict[str, Any] = {
        "smtp": "127.0.0.1:0",
        "http": "127.0.0.1:0",
        "db": str(tmp_path / "sandbox.db"),
    }
    values.update(overrides)
    return Settings.from_env(environ={}, **values)


@pytest.fixture
def sandbox_factory(tmp_path: Path) -> Iterator[Callable[..., RunningSandbox]]:
    """Start sandboxes with custom settings; all are stopped at the end of the test."""
    started: list[RunningSandbox] = []

    def start(**overrides: Any) -> RunningSandbox:
        running = start_in_thread(make_settings(tmp_path, **overrides))
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def running(sandbox_factory: Callable[..., RunningSandbox]) -> RunningSandbox:
    """A sandbox with default settings."""
    return sandbox_factory()


@pytest.fixture
def api(running: RunningSandbox) -> Iterator[httpx.Client]:
    """An HTTP client pointed at the running sandbox."""
    with httpx.Client(base_url=running.url, timeout=30) as client:
        yield client


@pytest.fixture
def smtp(running: RunningSandbox) -> Iterator[smtplib.SMTP]:
    """An SMTP client connected to the running sandbox."""
    with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=30) as client:
        yield client
