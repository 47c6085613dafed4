"""Handlebars rendering shared by the SendGrid and Mailgun template features (pybars3)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import pybars


class TemplateError(ValueError):
    """The template does not compile or render; the message says why."""


@lru_cache(maxsize=256)
def _compile(source: str) -> Any:
    try:
        return pybars.Compiler().compile(source)
    except Exception as exc:  # pybars raises PybarsError and plain exceptions alike
        raise TemplateError(f"template error: {exc}") from exc


def render(source: str, data: dict[str, Any]) -> str:
    """Render ``source`` with Handlebars semantics: ``{{var}}`` escaped, ``{{{raw}}}`` not,
    ``{{#if}}``, ``{{#each}}``, ``{{#unless}}``, ``{{#with}}``; missing values render empty."""
    if not source:
        return ""
    template = _compile(source)
    try:
        return str(template(data))
    except Exception as exc:
        raise TemplateError(f"template error: {exc}") from exc
