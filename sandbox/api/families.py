"""The core's route families on the HTTP surface, and ``install()`` for the whole HTTP layer.

- ``probe``: ``/livez``, ``/readyz``; policy probe.
- ``api``: ``/api/*``, ``/view/{id}.html`` and ``.txt``; policy api, except message parts
  (message-content: the sandboxed ``/view`` document loads them) and the API explorer
  ``/api/docs`` (ui-page).
- ``tracking``: ``/t/*`` (open pixel, click redirect, recipient view); policy message-content.
- ``metrics``: ``/metrics`` (Prometheus); policy api.

Add-ons add theirs in their ``install()``: the web UI (``/``, ``/ui/*``, ``/view/*``), SendGrid
(``/v3/*`` that is not Mailgun's) and Mailgun (``/v3/{domain.with.dot}/*``, ``/v3/domains/*``,
``/v4/*``, ``/v5/*``, ...). See ``surface.py`` for what each policy means.
"""

from __future__ import annotations

from fastapi import FastAPI

from mailsandbox.api import error_shapes, lazy_routes, scoping, security
from mailsandbox.api.error_shapes import MAILPIT
from mailsandbox.api.surface import (
    API,
    MESSAGE_CONTENT,
    PROBE,
    UI_PAGE,
    Family,
    Surface,
    claims_pattern,
    claims_prefixes,
    rule,
)
from mailsandbox.config import Settings

PROBES = Family("probe", claims_prefixes(exact=("/livez", "/readyz")), PROBE)
MAILPIT_API = Family(
    "api",
    claims_pattern(r"/api/|/view/[^/]+\.(?:html|txt)$"),
    API,
    routes=(
        # Loaded by /view/{ID}.html (a sandboxed, opaque-origin document) for cid: images.
        rule("GET,HEAD /api/v1/message/{message_id}/part/{part_id}", MESSAGE_CONTENT),
        rule("GET,HEAD /api/docs", UI_PAGE),
        rule("GET,HEAD /api/docs/*", UI_PAGE),
    ),
    errors=MAILPIT,
    label="REST API",
)
TRACKING = Family("tracking", claims_prefixes("/t/"), MESSAGE_CONTENT, errors=MAILPIT)
# Prometheus scrapes it from a server (no Origin): the API's policy, behind --ui-auth.
METRICS = Family("metrics", claims_prefixes(exact=("/metrics",)), API, label="metrics")
CORE_FAMILIES = (PROBES, MAILPIT_API, TRACKING, METRICS)


def surface_of(app: FastAPI) -> Surface:
    """The app's route table (created by :func:`install`)."""
    surface: Surface = app.state.surface
    return surface


def install(app: FastAPI, settings: Settings) -> Surface:
    """The route table with the core's families, the error shapes and the security guards."""
    surface = Surface()
    for family in CORE_FAMILIES:
        surface.add(family)
    app.state.surface = surface
    error_shapes.install(app)
    lazy_routes.install(app)  # its middleware inside the guards: it reads the family they match
    security.install(app, surface, settings, scoping.install(app))
    return surface
