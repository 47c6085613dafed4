"""Handlebars rendering shared by the SendGrid and Mailgun template features (pybars3).

pybars is imported at the first template compiled, not at start: building its grammar costs
~0.4 s, most of the sandbox's start-up time otherwise (``bench/startup.py``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any


class TemplateError(ValueError):
    """The template does not compile or render; the message says why."""


@lru_cache(maxsize=256)
def _compile(source: str) -> Any:
    import pybars

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
