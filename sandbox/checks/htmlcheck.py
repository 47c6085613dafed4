"""HTML compatibility: which HTML and CSS features a message uses, scored against caniemail.

:func:`run` returns Mailpit's ``HTMLCheckResponse`` (``internal/htmlcheck``) for a message's HTML:
one Warning per feature found (its per-client results and score), the platform list, and a
weighted total. The detection tables are in :mod:`~mailsandbox.checks.htmlcheck_rules`.

Differences from Mailpit, on purpose: remote stylesheets are never downloaded (a check makes
no network request); a feature missing from the data is skipped instead of failing the whole
check (Mailpit answers 400 ``image-ppm does not exist`` for a ``.ppm`` image); a message with no
countable element is scored against one node instead of dividing by zero. The work is linear
in the HTML (one parse, indexed selector matching under a step budget); :data:`MAX_HTML` bounds
the input.
"""

from __future__ import annotations

import re
from typing import Any

from mailsandbox.checks import caniemail, htmldoc, inline_css
from mailsandbox.checks import htmlcheck_rules as rules
from mailsandbox.checks.caniemail import f32, go_float32
from mailsandbox.checks.selectors import Matcher

MAX_HTML = 2 * 1024 * 1024
_BODY_CLOSE = re.compile(r"</body>", re.IGNORECASE)
_SCRIPT_DATA_TYPES = {"application/ld+json", "application/json"}


class TooLarge(ValueError):
    """The HTML is over :data:`MAX_HTML` characters."""


def _script_warning(found: int) -> dict[str, Any]:
    return {
        "Slug": "html-script",
        "Title": "<script> element",
        "Description": "JavaScript is not supported in any email client.",
        "URL": "",
        "Category": "html",
        "Tags": [],
        "Keywords": "",
        "Results": [],
        "NotesByNumber": {},
        "Score": {"Found": found, "Supported": 0.0, "Partial": 0.0, "Unsupported": 100.0},
    }


def _node_count(document: htmldoc.Document) -> int:
    """Mailpit's ``Nodes``: every element but html/head/meta for a full document (``</body>``),
    else the body's elements; scripts count either way."""
    if document.has_body_close:
        counted = [e for e in document.elements if e.tag not in ("html", "head", "meta", "body")]
        return len(counted) + 1  # the <body> the parser always has
    return sum(
        1
        for e in document.elements
        if e.tag == "script" or (not e.in_head and e.tag not in htmldoc.DOCUMENT)
    )


def _html_counts(document: htmldoc.Document, matcher: Matcher) -> dict[str, int]:
    counts: dict[str, int] = {}
    for slug, selector in rules.HTML_TESTS.items():
        if slug == "html-body":
            counts[slug] = 1 if document.has_body_close else 0
        else:
            counts[slug] = len(matcher.select_text(selector))
    for image in document.find("img"):
        source = image.get("src")
        if source is None:
            continue
        for slug, pattern in rules.IMAGE_TESTS.items():
            if pattern.search(source):
                counts[slug] = counts.get(slug, 0) + 1
    return counts


def _css_counts(document: htmldoc.Document, matcher: Matcher) -> dict[str, int]:
    """The CSS tests. Runs after the HTML tests: it inlines the <style> rules into the tree."""
    stylesheet_text = document.style_text()
    inline_css.inline(document, matcher)
    counts: dict[str, int] = {}
    styles = [e.attrs["style"] for e in document.elements if "style" in e.attrs]
    for style in styles:
        for slug, pattern in rules.INLINE_TESTS.items():
            if pattern.search(style):
                counts[slug] = counts.get(slug, 0) + 1
    for slug, attribute in rules.ATTRIBUTE_TESTS.items():
        if any(attribute in e.attrs for e in document.elements):
            counts[slug] = counts.get(slug, 0) + 1
    for slug, pattern in rules.UNIT_TESTS.items():
        counts[slug] = sum(len(pattern.findall(style)) for style in styles)
    for slug, pattern in rules.STYLESHEET_TESTS.items():
        counts[slug] = len(pattern.findall(stylesheet_text))
    return counts


def run(markup: str) -> dict[str, Any]:
    """Mailpit's HTMLCheckResponse for ``markup``."""
    if len(markup) > MAX_HTML:
        raise TooLarge(f"message HTML is over {MAX_HTML // (1024 * 1024)} MB, too large to check")
    document = htmldoc.parse(markup)
    matcher = Matcher(document)
    nodes = _node_count(document)
    warnings: list[dict[str, Any]] = []
    tests = rules.TEST_COUNT
    scripts = [
        e
        for e in document.find("script")
        if (e.get("type") or "").strip().lower() not in _SCRIPT_DATA_TYPES
    ]
    if scripts:
        warnings.append(_script_warning(len(scripts)))
        tests += 1
    html_counts = _html_counts(document, matcher)
    # Mailpit counts each element test found twice (html.go): keep its Total.Tests.
    tests += sum(1 for slug, n in html_counts.items() if n and slug in rules.HTML_TESTS)
    tests -= 1 if html_counts.get("html-body") else 0
    counts = {**html_counts, **_css_counts(document, matcher)}
    for slug, found in counts.items():
        if found:
            item = caniemail.warning(slug, found)
            if item is not None:
                warnings.append(item)
    return _scored(warnings, nodes, tests)


def for_platform(result: dict[str, Any], platform: str) -> dict[str, Any]:
    """``result`` as seen from one platform (``ios``, ``windows``...): each warning keeps only
    that platform's client results and is scored on them; features with no data there (other
    than ``<script>``) drop out; the total is recomputed. The UI's platform filter."""
    warnings = []
    for warning in result["Warnings"]:
        if not warning["Results"]:
            warnings.append(warning)
            continue
        results = [r for r in warning["Results"] if r["Platform"] == platform]
        if results:
            score = {"Found": warning["Score"]["Found"], **caniemail.score_of(results)}
            warnings.append({**warning, "Results": results, "Score": score})
    total = result["Total"]
    return {**_scored(warnings, total["Nodes"], total["Tests"]), "Platforms": result["Platforms"]}


def _scored(warnings: list[dict[str, Any]], nodes: int, tests: int) -> dict[str, Any]:
    per_node = f32(max(nodes, 1))

    def weighted(score: dict[str, Any], key: str) -> float:
        return f32(f32(score[key] * f32(score["Found"])) / per_node)

    partial = max((weighted(w["Score"], "Partial") for w in warnings), default=0.0)
    unsupported = max((weighted(w["Score"], "Unsupported") for w in warnings), default=0.0)
    warnings.sort(
        key=lambda w: -f32(f32(f32(w["Score"]["Unsupported"] + w["Score"]["Partial"])
                               * f32(w["Score"]["Found"])) / per_node)
    )  # fmt: skip
    for w in warnings:
        score = w["Score"]
        w["Score"] = {
            "Found": score["Found"],
            **{k: go_float32(score[k]) for k in ("Supported", "Partial", "Unsupported")},
        }
    return {
        "Warnings": warnings,
        "Platforms": caniemail.platforms(),
        "Total": {
            "Tests": tests,
            "Nodes": nodes,
            "Supported": go_float32(f32(f32(100 - partial) - unsupported)),
            "Partial": go_float32(partial),
            "Unsupported": go_float32(unsupported),
        },
    }
