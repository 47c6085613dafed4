"""Delivery simulation: the event engine, outcome rules, SMTP faults and signed webhooks.

:func:`install` attaches it all to a :class:`~mailsandbox.runtime.Sandbox` before it starts (the
composition root calls it): migrations, the ingest write hook, the SMTP policy hook, the bus
listener and the two background loops (scheduled steps, webhook dispatch). Provider adapters
(the emulators) plug in through :mod:`mailsandbox.events.providers`.
"""

from __future__ import annotations

from pathlib import Path

from mailsandbox.events.access import EXTENSION_KEY, engine_of
from mailsandbox.events.dispatcher import parse_schedule
from mailsandbox.events.engine import EventEngine
from mailsandbox.events.migrations import MIGRATIONS
from mailsandbox.events.rules import RuleBook, load_file
from mailsandbox.events.smtp_faults import policy_hook
from mailsandbox.runtime import Sandbox


def install(sandbox: Sandbox) -> EventEngine:
    settings = sandbox.settings
    rules = RuleBook(load_file(Path(settings.rules_file)) if settings.rules_file else [])
    engine = EventEngine(sandbox, rules, parse_schedule(settings.webhook_retry_schedule))
    sandbox.migrations.extend(MIGRATIONS)
    sandbox.ingestor.write_hooks.append(engine.on_ingest)
    sandbox.smtp_handler.policy_hooks.append(policy_hook(rules))
    sandbox.bus.on(engine.on_bus)

    async def start() -> None:
        await engine.load_rules()
        sandbox.spawn(engine.run())
        sandbox.spawn(engine.dispatcher.run())

    sandbox.on_startup.append(start)
    sandbox.on_shutdown.append(engine.dispatcher.drain)
    sandbox.extensions[EXTENSION_KEY] = engine
    return engine


__all__ = ["EXTENSION_KEY", "EventEngine", "engine_of", "install"]
