"""CSS selectors over :mod:`~mailsandbox.checks.htmldoc` trees.

Enough of CSS Selectors 3 for what mail uses and the checks need: type, ``*``, ``#id``,
``.class``, attribute selectors (``[a]``, ``=``, ``~=``, ``^=``, ``$=``, ``*=``, ``|=``),
``:first-child``/``:last-child``/``:only-child``, ``:not(compound)`` and the four combinators.
Anything else raises :class:`Unsupported` (the inliner then leaves that rule alone, as
premailer leaves the selectors it cannot inline).

Matching runs right to left from candidates picked by tag, id or class, with a memo for the
descendant/sibling walks, and counts its steps against a :class:`Budget`, so no stylesheet can
make it run long.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mailsandbox.checks.htmldoc import Document, Element

MAX_COMPOUNDS = 16


class Unsupported(ValueError):
    """A selector this engine does not understand."""


class BudgetExceeded(RuntimeError):
    """Matching took more steps than allowed."""


@dataclass
class Budget:
    steps: int

    def spend(self, n: int = 1) -> None:
        self.steps -= n
        if self.steps < 0:
            raise BudgetExceeded("selector matching budget exhausted")


@dataclass(frozen=True)
class AttrTest:
    name: str
    op: str  # "" (presence), "=", "~=", "^=", "$=", "*=", "|="
    value: str
    fold: bool  # the ``i`` flag

    def test(self, element: Element) -> bool:
        actual = element.get(self.name)
        if actual is None:
            return False
        if not self.op:
            return True
        want = self.value
        if self.fold:
            actual, want = actual.lower(), want.lower()
        if self.op == "=":
            return actual == want
        if self.op == "~=":
            return want in actual.split()
        if self.op == "|=":
            return actual == want or actual.startswith(want + "-")
        if not want:
            return False
        if self.op == "^=":
            return actual.startswith(want)
        if self.op == "$=":
            return actual.endswith(want)
        return want in actual  # "*="


@dataclass(frozen=True)
class Compound:
    tag: str | None = None
    ids: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    attrs: tuple[AttrTest, ...] = ()
    pseudos: tuple[str, ...] = ()
    negations: tuple[Compound, ...] = ()

    def test(self, element: Element) -> bool:
        if self.tag is not None and element.tag != self.tag:
            return False
        if any(element.get("id") != i for i in self.ids):
            return False
        if self.classes and not set(self.classes) <= set(element.classes):
            return False
        if not all(a.test(element) for a in self.attrs):
            return False
        for pseudo in self.pseudos:
            siblings = element.parent.children if element.parent is not None else [element]
            first, last = siblings[0] is element, siblings[-1] is element
            if not {"first-child": first, "last-child": last, "only-child": first and last}[pseudo]:
                return False
        return not any(n.test(element) for n in self.negations)

    @property
    def specificity(self) -> tuple[int, int, int]:
        inner = [n.specificity for n in self.negations]
        return (
            len(self.ids) + sum(s[0] for s in inner),
            len(self.classes) + len(self.attrs) + len(self.pseudos) + sum(s[1] for s in inner),
            (1 if self.tag else 0) + sum(s[2] for s in inner),
        )


@dataclass(frozen=True)
class Selector:
    compounds: tuple[Compound, ...]  # left to right
    combinators: tuple[str, ...]  # between them: " ", ">", "+", "~"

    @property
    def specificity(self) -> tuple[int, int, int]:
        parts = [c.specificity for c in self.compounds]
        return (sum(p[0] for p in parts), sum(p[1] for p in parts), sum(p[2] for p in parts))


_IDENT = r"-?(?:[_a-zA-Z\u00a0-\uffff]|\\.)(?:[-_a-zA-Z0-9\u00a0-\uffff]|\\.)*"
_SIMPLE = re.compile(
    rf"""(?P<type>\*|{_IDENT})
    |\#(?P<id>(?:[-_a-zA-Z0-9\u00a0-\uffff]|\\.)+)
    |\.(?P<cls>{_IDENT})
    |\[\s*(?P<attr>{_IDENT})\s*(?:(?P<op>[~^$*|]?=)\s*
        (?P<value>"[^"]*"|'[^']*'|{_IDENT}|-?\d[\w-]*)\s*(?P<fold>[iIsS])?\s*)?\]
    |:(?P<pseudo>first-child|last-child|only-child)(?![-\w(])
    |(?P<not>:not\()""",
    re.VERBOSE,
)
_COMBINATOR = re.compile(r"\s*([>+~])\s*|\s+")
_ESCAPE = re.compile(r"\\(.)")


def _unescape(text: str) -> str:
    return _ESCAPE.sub(r"\1", text)


def _compound(text: str, pos: int) -> tuple[Compound, int]:
    tag: str | None = None
    ids: list[str] = []
    classes: list[str] = []
    attrs: list[AttrTest] = []
    pseudos: list[str] = []
    negations: list[Compound] = []
    start = pos
    while pos < len(text):
        match = _SIMPLE.match(text, pos)
        if match is None:
            break
        if match.group("type") is not None:
            if pos != start:
                raise Unsupported(text)
            tag = None if match.group("type") == "*" else _unescape(match.group("type")).lower()
        elif match.group("id") is not None:
            ids.append(_unescape(match.group("id")))
        elif match.group("cls") is not None:
            classes.append(_unescape(match.group("cls")))
        elif match.group("attr") is not None:
            value = match.group("value") or ""
            if value[:1] in ("'", '"'):
                value = value[1:-1]
            fold = (match.group("fold") or "").lower() == "i"
            name = _unescape(match.group("attr")).lower()
            attrs.append(AttrTest(name, match.group("op") or "", _unescape(value), fold))
        elif match.group("pseudo") is not None:
            pseudos.append(match.group("pseudo"))
        else:
            inner, end = _compound(text, match.end())
            if end >= len(text) or text[end] != ")":
                raise Unsupported(text)
            negations.append(inner)
            pos = end + 1
            continue
        pos = match.end()
    if pos == start:
        raise Unsupported(text)
    compound = Compound(
        tag, tuple(ids), tuple(classes), tuple(attrs), tuple(pseudos), tuple(negations)
    )
    return compound, pos


def parse_selector(text: str) -> Selector:
    """One complex selector (no commas); :class:`Unsupported` if it uses anything else."""
    text = text.strip()
    compounds: list[Compound] = []
    combinators: list[str] = []
    pos = 0
    while True:
        compound, pos = _compound(text, pos)
        compounds.append(compound)
        if pos >= len(text):
            break
        match = _COMBINATOR.match(text, pos)
        if match is None:
            raise Unsupported(text)
        combinators.append(match.group(1) or " ")
        pos = match.end()
    if len(compounds) > MAX_COMPOUNDS:
        raise Unsupported(text)
    return Selector(tuple(compounds), tuple(combinators))


def split_list(text: str) -> list[str]:
    """A selector list split at its top-level commas."""
    parts: list[str] = []
    current: list[str] = []
    depth, quote = 0, ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth = max(0, depth - 1)
        elif char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


@dataclass
class Matcher:
    """Runs selectors against one document, sharing its candidate indexes and a budget."""

    document: Document
    budget: Budget = field(default_factory=lambda: Budget(2_000_000))
    _by_tag: dict[str, list[Element]] = field(default_factory=dict)
    _by_id: dict[str, list[Element]] = field(default_factory=dict)
    _by_class: dict[str, list[Element]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for element in self.document.elements:
            self._by_tag.setdefault(element.tag, []).append(element)
            if element.get("id") is not None:
                self._by_id.setdefault(element.get("id") or "", []).append(element)
            for name in set(element.classes):
                self._by_class.setdefault(name, []).append(element)

    def _candidates(self, compound: Compound) -> list[Element]:
        if compound.ids:
            return self._by_id.get(compound.ids[0], [])
        if compound.classes:
            return self._by_class.get(compound.classes[0], [])
        if compound.tag is not None:
            return self._by_tag.get(compound.tag, [])
        return self.document.elements

    def _narrowed(self, selector: Selector) -> list[Element]:
        """Candidates for the rightmost compound; for a descendant/child chain, only those
        inside the subtrees of the rarest ancestor compound (``.promo td``: the tds of .promo)."""
        candidates = self._candidates(selector.compounds[-1])
        if len(selector.compounds) == 1 or any(c in "+~" for c in selector.combinators):
            return candidates
        roots = min((self._candidates(c) for c in selector.compounds[:-1]), key=len)
        if len(roots) * 4 >= len(candidates):
            return candidates
        inside: set[int] = set()
        stack = list(roots)
        while stack:
            node = stack.pop()
            self.budget.spend(len(node.children) + 1)
            for child in node.children:
                if child.index not in inside:
                    inside.add(child.index)
                    stack.append(child)
        return [e for e in candidates if e.index in inside]

    def select(self, selector: Selector) -> list[Element]:
        """The elements ``selector`` matches, in document order."""
        memo: dict[tuple[int, int], bool] = {}
        last = len(selector.compounds) - 1
        found = []
        for element in self._narrowed(selector):
            if self._matches(selector, last, element, memo):
                found.append(element)
        return found

    def select_text(self, text: str) -> list[Element]:
        """The elements a selector list matches (document order, no duplicates)."""
        seen: dict[int, Element] = {}
        for part in split_list(text):
            for element in self.select(parse_selector(part)):
                seen[element.index] = element
        return [seen[i] for i in sorted(seen)]

    def _matches(
        self, selector: Selector, i: int, element: Element, memo: dict[tuple[int, int], bool]
    ) -> bool:
        key = (i, element.index)
        if key in memo:
            return memo[key]
        self.budget.spend()
        result = selector.compounds[i].test(element)
        if result and i > 0:
            combinator = selector.combinators[i - 1]
            if combinator == ">":
                parent = element.parent
                result = parent is not None and parent.tag != "#root"
                result = result and self._matches(selector, i - 1, parent, memo)  # type: ignore[arg-type]
            elif combinator == " ":
                result = any(
                    self._matches(selector, i - 1, a, memo)
                    for a in element.ancestors()
                    if a.tag != "#root"
                )
            elif combinator == "+":
                before = element.siblings_before()
                result = bool(before) and self._matches(selector, i - 1, before[-1], memo)
            else:  # "~"
                result = any(
                    self._matches(selector, i - 1, s, memo) for s in element.siblings_before()
                )
        memo[key] = result
        return result
