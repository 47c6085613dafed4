"""Prometheus metrics: a counter-and-histogram kit small enough to live on the ingest path, and
the text exposition format (version 0.0.4) they are scraped in.

Counting costs an integer increment (and, for the ingest latency, a ``bisect`` into a dozen
bucket bounds) where it happens; everything that is a state rather than an event (messages
stored, the webhook outbox's depth, the database's size) is read when ``/metrics`` is scraped.
No dependency: ``prometheus_client`` (a dev dependency) only parses the output in the tests.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

Labels = Mapping[str, str]
Sample = tuple[Labels, float]

# Seconds from a door handing a message over to its commit (SQLite group commit: ~1-20 ms).
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Histogram:
    """Observations counted into buckets (each ``le`` bound inclusive), their sum and count."""

    def __init__(self, bounds: Iterable[float] = LATENCY_BUCKETS) -> None:
        self.bounds = tuple(sorted(bounds))
        self.counts = [0] * (len(self.bounds) + 1)  # the last is +Inf
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value
        self.count += 1

    def samples(self, name: str) -> list[tuple[str, Labels, float]]:
        out: list[tuple[str, Labels, float]] = []
        running = 0
        for bound, count in zip((*self.bounds, math.inf), self.counts, strict=True):
            running += count
            out.append((f"{name}_bucket", {"le": _number(bound)}, running))
        out.append((f"{name}_sum", {}, self.sum))
        out.append((f"{name}_count", {}, self.count))
        return out


@dataclass
class Family:
    """One metric: its name, type (counter, gauge, histogram), help text and samples."""

    name: str
    kind: str
    help: str
    samples: list[Sample] = field(default_factory=list)
    histogram: Histogram | None = None

    def lines(self) -> list[str]:
        out = [f"# HELP {self.name} {_escape_help(self.help)}", f"# TYPE {self.name} {self.kind}"]
        if self.histogram is not None:
            rows = self.histogram.samples(self.name)
        else:
            suffix = "_total" if self.kind == "counter" else ""
            rows = [(self.name + suffix, labels, value) for labels, value in self.samples]
        out += [f"{name}{_labels(labels)} {_number(value)}" for name, labels, value in rows]
        return out


def counter(name: str, help: str, values: Mapping[str, int] | int, label: str = "") -> Family:
    """A counter (``name`` without ``_total``); ``values`` by the value of ``label``, or one."""
    if isinstance(values, int):
        return Family(name, "counter", help, [({}, values)])
    return Family(name, "counter", help, [({label: k}, v) for k, v in sorted(values.items())])


def gauge(name: str, help: str, value: float, labels: Labels | None = None) -> Family:
    return Family(name, "gauge", help, [(labels or {}, value)])


def render(families: Iterable[Family]) -> str:
    """The text exposition format (``text/plain; version=0.0.4``)."""
    return "".join(line + "\n" for family in families for line in family.lines())


CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _number(value: float) -> str:
    if value == math.inf:
        return "+Inf"
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape_value(v)}"' for k, v in labels.items()) + "}"
