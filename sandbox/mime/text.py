"""Text derived from bodies: HTML to plain text, the list snippet, and search normalisation.

Each runs on every ingested message, so each has a quick way for the usual input, giving the
same result as the plain way (which is kept for the rest, and as the tests' reference).
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

SNIPPET_BYTES = 200


class _TextExtractor(HTMLParser):
    _SKIP = {"script", "style", "head", "title"}
    _BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip_depth += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skip_depth:
            self._skip_depth -= 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """The readable text of an HTML body: tags dropped, block ends as line breaks."""
    parts = _simple_html_parts(markup)
    if parts is None:
        parts = _parser_parts(markup)
        if parts is None:
            return _stripped(markup)
    return _tidy(parts)


def _stripped(markup: str) -> str:
    """The last resort, for markup HTMLParser gives up on: tags cut out by a regular expression
    (on :func:`for_html_parser`'s markup, where every ``<`` has a ``>`` after it: linear)."""
    return html.unescape(re.sub(r"<[^>]*>", " ", for_html_parser(markup)))


def for_html_parser(markup: str) -> str:
    """``markup`` as HTMLParser should be fed it: every ``<`` after the last ``>`` escaped.

    Such a ``<`` can start no complete tag, comment or declaration. HTMLParser (before Python
    3.13.4 / 3.12.11) handles each of them at the end of input by searching the rest of the
    input for its end and then emitting a few characters as text: quadratic time (``"<a" * 40000``
    took 8 s, ``"<!--" * 40000`` 27 s). Escaped, they are the same text to a parser that
    converts character references, read in linear time.
    """
    last = markup.rfind(">")
    if markup.find("<", last + 1) < 0:
        return markup
    return markup[: last + 1] + markup[last + 1 :].replace("<", "&lt;")


def _parser_parts(markup: str) -> list[str] | None:
    parser = _TextExtractor()
    try:
        parser.feed(for_html_parser(markup))
        parser.close()
    except Exception:
        return None
    return parser.parts


def _html_to_text_with_parser(markup: str) -> str:
    """:func:`html_to_text` the plain way, HTMLParser and regular expressions: the tests'
    reference."""
    parts = _parser_parts(markup)
    if parts is None:
        return _stripped(markup)
    text = re.sub(r"[ \t\r\f\v]+", " ", "".join(parts))
    return re.sub(r"\s*\n\s*", "\n", text).strip()


_BLANKS = re.compile(r"[ \t\r\f\v]+")


def _tidy(parts: list[str]) -> str:
    r"""The extracted text with blanks collapsed, lines stripped, empty lines dropped.

    The plain way is two regular-expression substitutions, ``[ \t\r\f\v]+`` to a space and
    ``\s*\n\s*`` to a line break, and a strip; they cost about 20 ns a character. The same
    result: the second one replaces each run of white space holding a line break, that is,
    strips the lines and drops the empty ones, which str.strip and a list do quicker; the
    first one, which touches no line break, may come after it, and only if there is a run of
    blanks left to collapse.
    """
    lines = [line.strip() for line in "".join(parts).split("\n")]
    text = "\n".join([line for line in lines if line])
    if "  " in text or "\t" in text or "\r" in text or "\f" in text or "\v" in text:
        text = _BLANKS.sub(" ", text)
    return text


# html.parser spends a regular expression or three, a method call and a position update per
# tag; an HTML body has hundreds. For markup made only of well-formed tags, comments, a doctype
# and text, _simple_html_parts produces what _TextExtractor collects, in a loop over the tags.
# It follows HTMLParser (convert_charrefs=True) step by step: text between tags is unescaped
# per run, "<x/>" is a start and an end tag, script and style content runs to the first
# "</script>" / "</style>" and is skipped, comments end at the first "--" + ">". Anything else
# ("<" not starting such a tag, odd white space, unquoted values with "/", "<![", "<?",
# unterminated constructs) returns None, and HTMLParser itself does the work.
_WS = "[ \t\n\r\f]"  # the white space that ends a tag name for HTMLParser (not \v, \x1c...)
# A tag name as both html.parser's endtagfind and tagfind_tolerant read it ("o:p" included).
_NAME = "[a-zA-Z][-.a-zA-Z0-9:_]*"
# An end tag (group 1: the name), or a start tag (group 2: the name; group 3: "/" if it ends
# in "/>"), attribute values quoted without "<" or ">", or unquoted without "/". Possessive
# quantifiers (Python 3.11+): no backtracking could make any of them match otherwise, since
# what follows each never starts with what it stops at; they only spare the engine trying.
_TAG = re.compile(
    rf"<(?:/({_NAME}){_WS}*+|({_NAME})(?:{_WS}+[a-zA-Z_:][-a-zA-Z0-9_:.]*+"
    rf"""(?:{_WS}*+={_WS}*+(?:"[^"<>]*+"|'[^'<>]*+'|[^ \t\n\r\f"'=<>`/]++))?+)*+{_WS}*+(/?))>"""
)
_COMMENT_END = re.compile(r"--\s*>")  # html.parser's commentclose
# html.parser's set_cdata_mode: where script and style content ends
_CDATA_END = {tag: re.compile(rf"</\s*{tag}\s*>", re.I) for tag in ("script", "style")}


def _simple_html_parts(markup: str) -> list[str] | None:
    skip_tags, block_tags = _TextExtractor._SKIP, _TextExtractor._BLOCK
    unescape = html.unescape
    parts: list[str] = []
    skip = 0  # _TextExtractor._skip_depth
    pos = 0
    while True:
        lt = markup.find("<", pos)
        if lt < 0:
            if pos < len(markup) and not skip:
                parts.append(unescape(markup[pos:]))
            return parts
        if lt > pos and not skip:
            parts.append(unescape(markup[pos:lt]))
        found = _TAG.match(markup, lt)
        if found is not None:
            pos = found.end()
            end_name, start_name, slash = found.groups()
            if start_name is not None:
                tag = start_name.lower()
                if tag in skip_tags:
                    skip += 1
                elif tag in block_tags:
                    parts.append("\n")
                if not slash:  # "<x/>": HTMLParser calls handle_endtag too
                    if tag not in _CDATA_END:
                        continue
                    found = _CDATA_END[tag].search(markup, pos)
                    if found is None:
                        return None
                    pos = found.end()  # its content is skipped: the tag is in skip_tags
            else:
                tag = end_name.lower()
            if tag in skip_tags and skip:
                skip -= 1
            elif tag in block_tags:
                parts.append("\n")
        elif markup.startswith("<!--", lt):
            found = _COMMENT_END.search(markup, lt + 4)
            if found is None:
                return None
            pos = found.end()
        elif markup[lt : lt + 9].lower() == "<!doctype":
            end = markup.find(">", lt + 9)
            if end < 0:
                return None
            pos = end + 1
        else:
            return None


def make_snippet(text: str, html_body: str) -> str:
    return snippet_of(html_to_text(html_body) if html_body else text)


def snippet_of(source: str) -> str:
    """The list snippet of a body's text: whitespace collapsed, cut after ``SNIPPET_BYTES``.

    The snippet only depends on the first ``SNIPPET_BYTES`` of the collapsed text, so a prefix
    is collapsed first (a short one, then a longer one); only if that is not enough text is the
    whole source collapsed. The result is the same either way, this is only quicker.
    """
    for limit in (SNIPPET_BYTES * 2, SNIPPET_BYTES * 8):
        if len(source) <= limit:
            break
        collapsed = " ".join(source[:limit].split())
        # The prefix's last word may be cut; the words before it start the collapsed text.
        whole_words = collapsed[: collapsed.rfind(" ")] if " " in collapsed else ""
        if len(whole_words.encode("utf-8")) > SNIPPET_BYTES:
            return _cut(whole_words + " ...")
    return _cut(" ".join(source.split()))


def _cut(collapsed: str) -> str:
    encoded = collapsed.encode("utf-8")
    if len(encoded) <= SNIPPET_BYTES:
        return collapsed
    return encoded[:SNIPPET_BYTES].decode("utf-8", "ignore") + "..."


# Mailpit's search normalisation replaces these with spaces; str.split() splits at whitespace.
_CLEAN_CHARS = '<>",;()'
# For ASCII text, one bytes.translate lower-cases, turns those characters and every character
# str.split() counts as whitespace in ASCII (\t \n \v \f \r, \x1c-\x1f) into spaces, and
# runs of spaces are then halved by bytes.replace until none is left: about twice as quick on
# a body as splitting it into words and joining them again, with the same result. Other text
# goes the plain way (Unicode white space, and lower() may change its length).
_ASCII_CLEAN = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZ" + _CLEAN_CHARS.encode() + b"\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f",
    b"abcdefghijklmnopqrstuvwxyz" + b" " * (len(_CLEAN_CHARS) + 9),
)


def clean(value: str) -> str:
    """Mailpit's search normalisation: lower-case, punctuation to spaces, collapse whitespace."""
    if value.isascii():
        data = value.encode("ascii").translate(_ASCII_CLEAN)
        while b"  " in data:
            data = data.replace(b"  ", b" ")
        return data.strip(b" ").decode("ascii")
    value = value.lower()
    for char in _CLEAN_CHARS:
        if char in value:
            value = value.replace(char, " ")
    return " ".join(value.split())
