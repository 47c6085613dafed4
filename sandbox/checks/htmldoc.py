"""A small HTML element tree, built in one linear pass, for the message checks.

The checks need what Mailpit gets from Go's HTML5 parser and goquery: elements with their
attributes, parents and children, which ones a browser would place in ``<head>``, and the text of
``<style>`` blocks. :func:`parse` builds that with the standard library's tokenizer and a few of
the HTML5 tree rules that matter here (void elements, implied ``</p>``/``</li>``/``</td>``,
the implied ``<tbody>``, ``<image>`` read as ``<img>``, head-only elements before the first
body content). Nesting is
capped at :data:`MAX_DEPTH`, so a hostile message cannot make any later walk deep.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

MAX_DEPTH = 256
VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
    "source", "track", "wbr", "keygen",
}  # fmt: skip
HEAD_ONLY = {"base", "link", "meta", "noscript", "script", "style", "template", "title"}
DOCUMENT = {"html", "head", "body"}
# A start tag of the key closes the innermost open element of the value (HTML5 "implied end").
CLOSES = {
    "li": {"li"},
    "dt": {"dt", "dd"},
    "dd": {"dt", "dd"},
    "td": {"td", "th"},
    "th": {"td", "th"},
    "tr": {"tr", "td", "th"},
    "option": {"option"},
    "optgroup": {"option", "optgroup"},
}
BLOCKS_CLOSING_P = {
    "address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div",
    "dl", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
    "h6", "header", "hgroup", "hr", "main", "menu", "nav", "ol", "p", "pre", "section",
    "summary", "table", "ul",
}  # fmt: skip
# Implied ends stop at these: an <li> inside a nested <ul> does not close the outer one.
SCOPES = {"ul", "ol", "table", "tbody", "thead", "tfoot", "select", "dl", "div", "td", "th"}


@dataclass(eq=False)
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None = None
    children: list[Element] = field(default_factory=list)
    in_head: bool = False
    text: list[str] = field(default_factory=list)  # its text (kept for <style>, <title>, <a>)
    index: int = 0  # position in document order
    position: int = 0  # position among its parent's children

    def get(self, name: str) -> str | None:
        return self.attrs.get(name)

    @property
    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()

    def ancestors(self) -> Iterator[Element]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def siblings_before(self) -> list[Element]:
        return self.parent.children[: self.position] if self.parent is not None else []


@dataclass
class Document:
    elements: list[Element]  # document order; the root pseudo-element is not in it
    has_body_close: bool

    def find(self, tag: str) -> list[Element]:
        return [e for e in self.elements if e.tag == tag]

    def style_text(self) -> str:
        return "".join("".join(e.text) for e in self.elements if e.tag == "style")


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {})
        self.stack: list[Element] = [self.root]
        self.elements: list[Element] = []
        self.body_started = False
        self.has_body_close = False
        self.anchor: Element | None = None  # the open <a>, whose text links are judged by

    def _close_implied(self, tag: str) -> None:
        targets = CLOSES.get(tag, set())
        if tag in BLOCKS_CLOSING_P:
            targets = targets | {"p"}
        if not targets:
            return
        for depth in range(len(self.stack) - 1, 0, -1):
            open_tag = self.stack[depth].tag
            if open_tag in targets:
                del self.stack[depth:]
                return
            if open_tag in SCOPES:
                return

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = "img" if tag == "image" else tag
        if tag == "body" or (tag not in DOCUMENT and tag not in HEAD_ONLY):
            self.body_started = True
        self._close_implied(tag)
        if tag == "tr" and self.stack[-1].tag == "table":
            self.handle_starttag("tbody", [])  # the <tbody> an HTML5 parser adds
        values: dict[str, str] = {}
        for name, value in attrs:
            values.setdefault(name, value or "")  # the first of a repeated attribute wins
        parent = self.stack[-1]
        element = Element(tag, values, parent, in_head=not self.body_started and tag != "html")
        element.index, element.position = len(self.elements), len(parent.children)
        parent.children.append(element)
        self.elements.append(element)
        if tag not in VOID and len(self.stack) < MAX_DEPTH:
            self.stack.append(element)
            if tag == "a":
                self.anchor = element

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if self.stack[-1].tag == tag and tag not in VOID:
            self.stack.pop()  # ``<td/>``, ``<path/>``: taken as closed (XHTML-style mail, SVG)

    def handle_endtag(self, tag: str) -> None:
        if tag == "body":
            self.has_body_close = True
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                if self.anchor is not None and self.anchor not in self.stack:
                    self.anchor = None
                return

    def handle_data(self, data: str) -> None:
        top = self.stack[-1]
        if top.tag in ("style", "script", "title", "textarea"):
            top.text.append(data)
        elif data.strip():
            self.body_started = True
        if self.anchor is not None:
            self.anchor.text.append(data)


def parse(markup: str) -> Document:
    """The element tree of ``markup`` (never raises; broken markup gives a best-effort tree)."""
    builder = _Builder()
    builder.feed(markup)
    builder.close()
    return Document(builder.elements, builder.has_body_close)
