"""Fixtures the emulator tests share: one sandbox per test module for read-only checks, a real
Django server with django-anymail's webhook views (one per test module), and the collector of
anymail's tracking signal."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from anymail.signals import tracking

from mailsandbox.runner import RunningSandbox
from tests.emulators.anymail_tracking import Tracked
from tests.emulators.django_settings import serve_django


@pytest.fixture(scope="module")
def shared(module_sandbox_factory: Callable[..., RunningSandbox]) -> RunningSandbox:
    """One sandbox for a whole module of read-only checks (sandbox start-up is the slow part),
    on the module's backend."""
    return module_sandbox_factory()


@pytest.fixture(scope="module")
def django_url() -> Iterator[str]:
    with serve_django() as url:
        yield url


@pytest.fixture
def tracked() -> Iterator[Tracked]:
    collector = Tracked()
    tracking.connect(collector, weak=False)
    yield collector
    tracking.disconnect(collector)
