"""Merge ``<style>`` rules into ``style=""`` attributes, the way Mailpit's HTML check does.

Mailpit runs go-premailer (``KeepBangImportant``, ``CssToAttributes`` on) before it looks at
inline styles, so a rule in a ``<style>`` block counts once per element it applies to. This does
the same on a :class:`~mailsandbox.checks.htmldoc.Document`, in place:

- ``<style media=...>`` blocks, at-rules (``@media``, ``@font-face``...) and selectors with
  ``*``, states or pseudo-elements (``:hover``, ``::before``) are not inlined (premailer keeps
  them in a ``<style>``); nor is a selector :mod:`~mailsandbox.checks.selectors` cannot read.
- Rules apply in specificity order (``!important`` last), then the element's own ``style``;
  the result is written back as sorted ``prop:value`` pairs joined by ``;``.
- ``text-align``, ``vertical-align``, ``background-color``, ``width`` and ``height`` are also
  copied to ``align``/``valign``/``bgcolor``/``width``/``height`` attributes (``px`` dropped).

Matching is bounded by the selector engine's step budget; past it the remaining rules are
skipped, so a hostile stylesheet costs at most that much.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailsandbox.checks.htmldoc import Document, Element
from mailsandbox.checks.selectors import (
    BudgetExceeded,
    Matcher,
    Unsupported,
    parse_selector,
    split_list,
)

MAX_RULES = 5000
_IMPORTANT = re.compile(r"\s*!\s*important\s*$", re.IGNORECASE)
# Selectors premailer keeps in a <style> instead of inlining (go-premailer's two regexes).
_UNMERGEABLE = re.compile(
    r"::?(visited|active|hover|focus|link|root|in-range|invalid|valid|after|before|selection"
    r"|target|first-(line|letter))|^@|:(checked|disabled|enabled|lang)",
    re.IGNORECASE,
)
_AS_ATTRIBUTE = {
    "text-align": "align",
    "vertical-align": "valign",
    "background-color": "bgcolor",
    "width": "width",
    "height": "height",
}


@dataclass(frozen=True)
class Declaration:
    prop: str
    value: str
    important: bool


def _split_top(text: str, separator: str) -> list[str]:
    """``text`` split at ``separator`` outside quotes and parentheses."""
    parts, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif char == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def declarations(block: str) -> list[Declaration]:
    """``color: red; width: 10px !important`` as declarations (later ones last)."""
    found = []
    for item in _split_top(block, ";"):
        prop, sep, value = item.partition(":")
        prop = prop.strip().lower()
        if not sep or not prop:
            continue
        important = bool(_IMPORTANT.search(value))
        value = _IMPORTANT.sub("", value).strip()
        found.append(Declaration(prop, value, important))
    return found


def _block_end(css: str, start: int) -> int:
    """Index just past the ``}`` closing the block opened at ``start`` (``{``)."""
    depth, quote = 0, ""
    for i in range(start, len(css)):
        char = css[i]
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    return len(css)


def strip_comments(css: str) -> str:
    """``css`` without ``/* ... */`` comments (an unclosed one runs to the end), in one pass."""
    kept, pos = [], 0
    while True:
        start = css.find("/*", pos)
        if start < 0:
            kept.append(css[pos:])
            return "".join(kept)
        kept.append(css[pos:start])
        end = css.find("*/", start + 2)
        if end < 0:
            return "".join(kept)
        pos = end + 2


def style_rules(css: str) -> list[tuple[str, list[Declaration]]]:
    """The top-level style rules of a stylesheet as (selector list, declarations)."""
    css = strip_comments(css).replace("<!--", "").replace("-->", "")
    rules: list[tuple[str, list[Declaration]]] = []
    pos = 0
    while pos < len(css) and len(rules) < MAX_RULES:
        brace = css.find("{", pos)
        prelude_end = brace if brace >= 0 else len(css)
        if css[pos:prelude_end].lstrip().startswith("@"):
            semicolon = css.find(";", pos, prelude_end)
            if semicolon >= 0:  # @import ...; @charset ...;
                pos = semicolon + 1
                continue
            pos = _block_end(css, brace) if brace >= 0 else len(css)
            continue
        if brace < 0:
            break
        end = _block_end(css, brace)
        rules.append((css[pos:brace].strip(), declarations(css[brace + 1 : end - 1])))
        pos = end
    return rules


def _sorted_rules(document: Document) -> list[tuple[tuple[int, ...], str, list[Declaration]]]:
    ordered: list[tuple[tuple[int, ...], str, list[Declaration]]] = []
    counter = 0
    sheets = [e for e in document.elements if e.tag == "style" and e.get("media") is None]
    for sheet_index, sheet in enumerate(sheets):
        if sheet.get("data-premailer") == "ignore":
            continue
        for selectors, decls in style_rules("".join(sheet.text)):
            for selector in split_list(selectors):
                if _UNMERGEABLE.search(selector) or "*" in selector:
                    continue
                try:
                    specificity = parse_selector(selector).specificity
                except Unsupported:
                    continue
                for important in (0, 1):
                    chosen = [d for d in decls if d.important == bool(important)]
                    if chosen:
                        key = (important, *specificity, sheet_index, counter)
                        ordered.append((key, selector, chosen))
                        counter += 1
    ordered.sort(key=lambda item: item[0])
    return ordered


def _write(element: Element, applied: list[Declaration]) -> None:
    styles: dict[str, str] = {}
    for decl in [*applied, *declarations(element.get("style") or "")]:
        styles[decl.prop] = decl.value + (" !important" if decl.important else "")
    for prop, value in styles.items():
        attribute = _AS_ATTRIBUTE.get(prop)
        if attribute is not None:
            if attribute in ("width", "height") and value.endswith("px"):
                value = value[:-2]
            element.attrs[attribute] = value
    if styles:
        element.attrs["style"] = ";".join(sorted(f"{p}:{v}" for p, v in styles.items()))


def inline(document: Document, matcher: Matcher) -> None:
    """Apply the document's ``<style>`` rules to its elements' ``style`` attributes."""
    applied: dict[int, list[Declaration]] = {}
    elements: dict[int, Element] = {}
    try:
        for _key, selector, decls in _sorted_rules(document):
            for element in matcher.select(parse_selector(selector)):
                applied.setdefault(element.index, []).extend(decls)
                elements[element.index] = element
    except BudgetExceeded:
        pass  # what was matched so far is still applied
    for index, element in elements.items():
        _write(element, applied[index])
