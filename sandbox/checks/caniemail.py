"""The caniemail.com support data, turned into Mailpit's html-check ``Warning`` objects.

``caniemail.json`` ships in this package: the data file of the npm package ``caniemail`` (MIT,
Avi Goldman and Andrew Powell), which is caniemail.com's ``/api/data.json`` (MIT, HTeuMeuLeu
/ Rémi Parmentier); ``CANIEMAIL-LICENSE`` beside it carries both notices. Refresh it with
``python scripts/update_caniemail.py``.

Scores use Go's float32 arithmetic (every step rounded to single precision) and are written in
float32's shortest form, so they read like Mailpit's (``45.833336``).
"""

from __future__ import annotations

import html
import json
import re
import struct
from functools import cache
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).with_name("caniemail.json")
SITE = "https://www.caniemail.com"
_NOTE = re.compile(r" #(\d)+$")  # Mailpit's: the last digit of a trailing note reference
_CODE = re.compile(r"`([^`]+)`")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


def f32(value: float) -> float:
    """``value`` rounded to the nearest float32."""
    result: float = struct.unpack("f", struct.pack("f", value))[0]
    return result


def go_float32(value: float) -> float | int:
    """A float32 as Go's JSON encoder writes it: the shortest decimal that reads back the same."""
    value = f32(value)
    if value.is_integer():
        return int(value)
    for digits in range(1, 10):
        text = f"{value:.{digits}g}"
        if f32(float(text)) == value:
            return float(text)
    return value


def markdown(text: str) -> str:
    """caniemail's Markdown (code spans and links, the only syntax it uses) as safe HTML."""

    def link(match: re.Match[str]) -> str:
        url = match.group(2)
        url = SITE + url if url.startswith("/") else url
        if not url.startswith(("https://", "http://")):
            return match.group(1)
        return f'<a href="{url}" target="_blank">{match.group(1)}</a>'

    escaped = html.escape(text.strip(), quote=False)
    return _LINK.sub(link, _CODE.sub(r"<code>\1</code>", escaped))


@cache
def data() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return loaded


@cache
def _entries() -> dict[str, dict[str, Any]]:
    return {entry["slug"]: entry for entry in data()["data"]}


@cache
def platforms() -> dict[str, list[str]]:
    """Platform -> the client families (nice names) with data for it, sorted (Mailpit's)."""
    families = data()["nicenames"]["family"]
    found: dict[str, set[str]] = {}
    for entry in data()["data"]:
        for family, stats in (entry.get("stats") or {}).items():
            for platform in stats:
                found.setdefault(platform, set()).add(families.get(family, family))
    return {platform: sorted(names) for platform, names in found.items()}


def _support(value: str) -> tuple[str, str]:
    if value == "y":
        return "yes", ""
    if value == "n":
        return "no", ""
    note = _NOTE.search(value)
    return "partial", note.group(1) if note else ""


@cache
def _warning(slug: str) -> dict[str, Any] | None:
    entry = _entries().get(slug)
    if entry is None:
        return None
    names = data()["nicenames"]
    results = []
    for family, stats in (entry.get("stats") or {}).items():
        for platform, versions in stats.items():
            for version, value in versions.items():
                support, note = _support(str(value))
                family_name = names["family"].get(family, "")
                platform_name = names["platform"].get(platform, "")
                results.append(
                    {
                        "Name": f"{family_name} {platform_name} ({version})",
                        "Platform": platform,
                        "Family": family,
                        "Version": version,
                        "Support": support,
                        "NoteNumber": note,
                    }
                )
    return {
        "Slug": entry["slug"],
        "Title": entry.get("title") or "",
        "Description": markdown(entry.get("description") or ""),
        "URL": entry.get("url") or "",
        "Category": entry.get("category") or "",
        "Tags": list(entry.get("tags") or []),
        "Keywords": "",  # Mailpit never fills it in
        "Results": results,
        "NotesByNumber": {
            k: markdown(v or "") for k, v in (entry.get("notes_by_num") or {}).items()
        },
        "Score": {"Found": 0, **score_of(results)},
    }


def score_of(results: list[dict[str, Any]]) -> dict[str, float]:
    """Supported / Partial / Unsupported shares of ``results`` (float32, as Mailpit)."""
    counts = {"yes": 0, "no": 0, "partial": 0}
    for result in results:
        counts[result["Support"]] += 1
    total = f32(sum(counts.values())) or 1.0

    def share(n: int) -> float:
        return f32(f32(n / total) * 100)

    return {
        "Supported": share(counts["yes"]),
        "Partial": share(counts["partial"]),
        "Unsupported": share(counts["no"]),
    }


def warning(slug: str, found: int) -> dict[str, Any] | None:
    """The Warning for ``slug`` found ``found`` times; None if the data has no such feature."""
    template = _warning(slug)
    if template is None:
        return None
    return {**template, "Score": {**template["Score"], "Found": found}}
