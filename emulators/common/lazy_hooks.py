"""A provider's event and inbound sides, imported when first needed rather than at start-up.

Every emulator formats its delivery events and signs its webhooks in its ``event_webhooks``
module (``adapter(sandbox)``: its :class:`~mailsandbox.events.providers.WebhookProvider`);
SendGrid's Inbound Parse and Mailgun's Routes route inbound mail in a module of their own
(``router()``: its :class:`~mailsandbox.inbound.model.InboundRouter`; ``delivery(sandbox)``: the
adapter that posts what matched). Those modules and the stores they read are ~2 MiB of a
sandbox that never sends through most providers (bench/README.md, "Idle RSS"), so
``install()`` registers them by module name: a module is imported, and its object made, at the
first message or event of the provider (``providers.get``), or at the first inbound mail
(routing asks every router about it). Importing is thread-safe (the import lock, and
:class:`mailsandbox.lazy.Lazy` makes each object once), so the SQLite writer thread, the
dispatcher and the event loop may be first alike.
"""

from __future__ import annotations

from importlib import import_module

from mailsandbox.events import providers
from mailsandbox.inbound import routing_of
from mailsandbox.runtime import Sandbox


def event_webhooks(sandbox: Sandbox, name: str, module: str) -> None:
    """Provider ``name``'s events go through ``module``'s ``adapter(sandbox)``."""
    providers.register(sandbox, name, lambda: import_module(module).adapter(sandbox))


def inbound(sandbox: Sandbox, name: str, module: str) -> None:
    """Inbound mail is routed by ``module``'s ``router()``, and what matched is posted by its
    ``delivery(sandbox)`` (outbox provider ``name``)."""
    routing_of(sandbox).register(name, lambda: import_module(module).router())
    providers.register(sandbox, name, lambda: import_module(module).delivery(sandbox))
