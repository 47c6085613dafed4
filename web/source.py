"""The HTML source tab: a message's decoded HTML, re-indented and highlighted (Pygments).

:func:`pretty` puts block-level tags on lines of their own, indented by nesting, and leaves
everything else as written: inline markup, attribute text (from the source, not re-quoted),
and the content of ``<pre>``, ``<textarea>``, ``<script>`` and ``<style>``. Whitespace-only
text between blocks is dropped. It is one pass of the standard tokenizer, so it is linear, and
it never changes what a browser would render except whitespace between block elements.
:func:`highlight` returns Pygments' HTML (CSS classes, styled by ``checks.css``); above
:data:`MAX_HIGHLIGHT` characters the source is shown escaped, without colours.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser

from markupsafe import Markup

MAX_HIGHLIGHT = 512 * 1024
INDENT = "  "
BLOCK = {
    "html", "head", "body", "title", "meta", "link", "style", "script", "base", "div", "p",
    "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "colgroup", "col", "ul",
    "ol", "li", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "center", "blockquote",
    "section", "article", "header", "footer", "nav", "main", "aside", "figure", "figcaption",
    "form", "hr", "br", "pre", "textarea", "noscript", "template", "address", "details",
    "summary", "fieldset", "legend", "picture", "svg", "video", "audio", "source", "map", "area",
}  # fmt: skip
VERBATIM = {"pre", "textarea", "script", "style"}
VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
    "source", "track", "wbr",
}  # fmt: skip


class _Printer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self.depth = 0
        self.verbatim = 0
        self.line_open = False  # inline content has been written on the current line

    def _newline(self) -> None:
        if self.out:
            self.out.append("\n")
        self.out.append(INDENT * self.depth)
        self.line_open = False

    def _inline(self, text: str) -> None:
        if not self.out:
            self.out.append(INDENT * self.depth)
        self.out.append(text)
        self.line_open = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        text = self.get_starttag_text() or f"<{tag}>"
        if self.verbatim:
            self.out.append(text)
        elif tag in BLOCK:
            self._newline()
            self.out.append(text)
            if tag not in VOID:
                self.depth += 1
            self.line_open = tag in VERBATIM
        else:
            self._inline(text)
        if tag in VERBATIM:
            self.verbatim += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        text = self.get_starttag_text() or f"<{tag}/>"
        if tag in BLOCK and not self.verbatim:
            self._newline()
            self.out.append(text)
        else:
            self._inline(text)

    def handle_endtag(self, tag: str) -> None:
        if tag in VERBATIM and self.verbatim:
            self.verbatim -= 1
            self.depth = max(0, self.depth - 1)
            self.out.append(f"</{tag}>")
            return
        if self.verbatim:
            self.out.append(f"</{tag}>")
        elif tag in BLOCK:
            self.depth = max(0, self.depth - 1)
            if self.line_open or not self.out or self.out[-1].startswith("<"):
                self._newline()
            self.out.append(f"</{tag}>")
        else:
            self._inline(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if self.verbatim:
            self.out.append(data)
        elif not data.strip():
            if self.line_open:
                self.out.append(" ")  # the space between two inline elements is content
        else:
            if not self.line_open:
                self._newline()
            self._inline(" ".join(data.split()) if "\n" in data else data)

    def handle_entityref(self, name: str) -> None:
        self._inline(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self._inline(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        self._newline()
        self.out.append(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self._newline()
        self.out.append(f"<!{decl}>")

    def unknown_decl(self, data: str) -> None:
        self._inline(f"<![{data}]>")


def pretty(markup: str) -> str:
    """``markup`` re-indented (see the module docstring)."""
    printer = _Printer()
    printer.feed(markup)
    printer.close()
    return "".join(printer.out).strip("\n") + "\n"


def highlight(markup: str) -> Markup:
    """The (pretty) source as HTML for a ``<pre>``: highlighted spans, everything escaped."""
    if len(markup) > MAX_HIGHLIGHT:
        return Markup(html.escape(markup))
    from pygments import highlight as pygments_highlight  # (loaded when first needed)
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import HtmlLexer

    formatter = HtmlFormatter(nowrap=True, classprefix="hl-")
    return Markup(pygments_highlight(markup, HtmlLexer(), formatter))
