"""Handlebars rendering shared by the template features of the emulators (pybars3).

SendGrid and Mailgun escape ``{{var}}`` as Handlebars does; Amazon SES does not ("SES doesn't
escape HTML content when rendering the HTML template", SES developer guide, advanced email
personalization), so :func:`render` takes ``escape=False`` for it. SES also refuses to send a
template whose data lacks an attribute it names (a Rendering Failure event, or
``MissingRenderingAttribute`` from TestRenderTemplate): :func:`missing_attribute` finds it.

pybars is imported at the first template compiled, not at start: building its grammar costs
~0.4 s, most of the sandbox's start-up time otherwise (``bench/startup.py``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any


class TemplateError(ValueError):
    """The template does not compile or render; the message says why."""


# ``{{ expression }}`` that Handlebars escapes: not ``{{{``, a block, a comment, a partial...
_ESCAPED = re.compile(r"(?<!\{)\{\{(?![{#/^!>&~]|\s*else\s*\}\})(.*?)\}\}")
# every mustache, to follow block depth; and a plain path (``name``, ``contact.first``)
_MUSTACHE = re.compile(r"\{\{\{?([&#/^!>]?)\s*([^}]*?)\s*\}?\}\}")
_PATH = re.compile(r"[A-Za-z_$][\w$-]*(?:\.[A-Za-z_$][\w$-]*)*")


@lru_cache(maxsize=256)
def _compile(source: str, escape: bool) -> Any:
    import pybars

    if not escape:  # {{x}} as {{&x}}: the same expression, not escaped
        source = _ESCAPED.sub(lambda m: "{{&" + m.group(1) + "}}", source)
    try:
        return pybars.Compiler().compile(source)
    except Exception as exc:  # pybars raises PybarsError and plain exceptions alike
        raise TemplateError(f"template error: {exc}") from exc


def render(source: str, data: dict[str, Any], escape: bool = True) -> str:
    """Render ``source`` with Handlebars semantics: ``{{var}}`` escaped (unless ``escape`` is
    False), ``{{{raw}}}`` not, ``{{#if}}``, ``{{#each}}``, ``{{#unless}}``, ``{{#with}}``;
    missing values render empty."""
    if not source:
        return ""
    template = _compile(source, escape)
    try:
        return str(template(data))
    except Exception as exc:
        raise TemplateError(f"template error: {exc}") from exc


def _resolve(data: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def missing_attribute(source: str, data: dict[str, Any]) -> str | None:
    """The first attribute ``source`` outputs at its top level (outside any block) that ``data``
    lacks or sets to null, or None. Paths inside ``{{#each}}``/``{{#with}}`` are relative to
    the block's context and conditions may name absent attributes, so neither is checked."""
    depth = 0
    for match in _MUSTACHE.finditer(source):
        sigil, body = match.groups()
        if sigil in ("#", "^"):
            depth += 1
        elif sigil == "/":
            depth = max(depth - 1, 0)
        elif sigil in ("!", ">") or depth or body == "else":
            continue
        elif _PATH.fullmatch(body) and body != "this" and _resolve(data, body) is None:
            return body
    return None
