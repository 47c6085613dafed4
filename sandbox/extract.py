"""Pull what a test needs out of an email body: its links and its one-time codes.

``find_links(text, html)`` lists every link of the HTML part (``href``, entities decoded, with the
anchor's text) and of the text part (bare URLs, with the words before them on the line),
deduplicated by URL, HTML first. Tracking-wrapped links whose target sits in a query parameter
(``?url=``, ``?redirect=``, Outlook safelinks, …) also get that ``target``.

``find_codes(text, html)`` finds one-time codes: 4-8 digit numbers (``123 456`` and ``123-456``
count) or 4-8 character letter+digit tokens, near a word such as *code*, *OTP*, *PIN*,
*verification* in one of many languages, best first, each with the line it was found on.
Pure functions: no I/O; the REST API, the client and the UI share them.

Both take time linear in their input, whatever it holds (mail is written by strangers), and
read at most ``MAX_SCAN_CHARS`` of each body (:func:`truncated` says when a body is longer).
They are CPU work: servers run them on a worker thread, never on the event loop.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

from mailsandbox.mime.text import for_html_parser

__all__ = [
    "MAX_SCAN_CHARS",
    "FoundCode",
    "FoundLink",
    "find_codes",
    "find_links",
    "html_text",
    "truncated",
]

MAX_SCAN_CHARS = 1_000_000  # of each body (text, HTML); codes and links sit well before that


def truncated(text: str, html: str) -> bool:
    """Whether a body is longer than what :func:`find_links` and :func:`find_codes` read."""
    return len(text) > MAX_SCAN_CHARS or len(html) > MAX_SCAN_CHARS


@dataclass(frozen=True)
class FoundLink:
    url: str
    text: str
    part: str  # "html" or "text"
    target: str = ""  # the destination of a tracking-wrapped link, when it can be read


@dataclass(frozen=True)
class FoundCode:
    code: str
    context: str
    score: float


# --- HTML ---------------------------------------------------------------------------------
class _HtmlScan(HTMLParser):
    """One pass over HTML: anchors (href + text) and readable text with cell/block breaks."""

    _SKIP = frozenset({"script", "style", "head", "title"})
    _BREAK = frozenset({"p", "div", "br", "tr", "li", "table", "h1", "h2", "h3", "h4", "h5", "h6"})
    _SPACE = frozenset({"td", "th", "span", "strong", "b", "em", "i", "code", "font", "img"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.anchors: list[tuple[str, str]] = []
        self._href: str | None = None
        self._anchor_text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip += 1
        elif tag in ("a", "area"):
            href = next((v for k, v in attrs if k == "href" and v), None)
            if tag == "area" and href:
                self.anchors.append((href.strip(), ""))
            elif tag == "a":
                self._href, self._anchor_text = (href.strip() if href else None), []
        elif tag == "img" and self._href is not None:
            alt = next((v for k, v in attrs if k == "alt" and v), "")
            self._anchor_text.append(alt)
        self._separate(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skip:
            self._skip -= 1
        elif tag == "a" and self._href is not None:
            self.anchors.append((self._href, " ".join("".join(self._anchor_text).split())))
            self._href = None
        self._separate(tag)

    def _separate(self, tag: str) -> None:
        if tag in self._BREAK:
            self.chunks.append("\n")
        elif tag in self._SPACE:
            self.chunks.append(" ")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.chunks.append(data)
        if self._href is not None:
            self._anchor_text.append(data)


def _scan(html: str) -> _HtmlScan:
    scan = _HtmlScan()
    try:
        scan.feed(for_html_parser(html[:MAX_SCAN_CHARS]))
        scan.close()
    except Exception:  # malformed markup: keep what was read so far
        pass
    return scan


def html_text(html: str) -> str:
    """Readable text of an HTML body, one line per block, cells separated by spaces."""
    text = re.sub(r"[ \t\r\f\v\xa0]+", " ", "".join(_scan(html).chunks))
    return re.sub(r" *\n[\s]*", "\n", text).strip()


# --- links --------------------------------------------------------------------------------
_URL_RE = re.compile(r"(?:https?://|www\.)[^\s<>\"'`\]\[{}|\\^]+", re.IGNORECASE)
_TRAILING = ".,;:!?)'\""
_UNWRAP_KEYS = ("url", "u", "redirect", "redirect_url", "redirect_uri", "target", "dest",
                "destination", "link", "to", "goto", "r", "q")  # fmt: skip
_LINK_SCHEMES = ("http://", "https://", "mailto:", "tel:", "www.")


_MAX_WRAPS = 5  # tracking links wrapped in tracking links: unwrap this many at most


def _wrapped(url: str) -> str:
    """The http(s) URL a tracking link carries in one of ``_UNWRAP_KEYS``, or ""."""
    try:
        params = dict((k.lower(), v) for k, v in parse_qsl(urlsplit(url).query))
    except ValueError:
        return ""
    for key in _UNWRAP_KEYS:
        value = params.get(key, "")
        if value.lower().startswith(("http://", "https://")):
            return value
    return ""


def _target(url: str) -> str:
    """Where a tracking link leads: its wrapped URL, unwrapped again while it wraps one."""
    target = ""
    for _ in range(_MAX_WRAPS):
        inner = _wrapped(url)
        if not inner:
            break
        target = url = inner
    return target


def _text_urls(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for line in text.splitlines():
        start = 0
        for match in _URL_RE.finditer(line):
            url = match.group(0).rstrip(_TRAILING)
            if url.count("(") < url.count(")"):  # "(see https://x/y)" keeps no ")"
                url = url.rstrip(")")
            label = line[start : match.start()].strip(" \t:>(<[\u2013\u2014-")
            found.append((url, " ".join(label.split())))
            start = match.end()
    return found


def find_links(text: str, html: str) -> list[FoundLink]:
    """Every link of both parts, deduplicated by URL (the HTML one, with its anchor text, first)."""
    candidates: list[tuple[str, str, str]] = []
    if html:
        candidates += [(url, label, "html") for url, label in _scan(html).anchors]
    candidates += [(url, label, "text") for url, label in _text_urls(text[:MAX_SCAN_CHARS])]
    links: dict[str, FoundLink] = {}
    for url, label, part in candidates:
        if not url.lower().startswith(_LINK_SCHEMES):
            continue  # "#top", "javascript:", "cid:" and relative paths lead nowhere from a mail
        known = links.get(url)
        if known is None:
            links[url] = FoundLink(url, label, part, _target(url))
        elif not known.text and label:
            links[url] = FoundLink(url, label, known.part, known.target)
    return list(links.values())


# --- codes --------------------------------------------------------------------------------
# Words that announce a one-time code; matched case-insensitively. Short Latin words must stand
# alone ("pin" is not in "shopping"); longer ones and CJK may sit inside a compound word.
_KEYWORDS = [
    # en
    r"\bcodes?\b", "one-time", "one time", "passcode", r"\botp\b", r"\bpin\b", "verif",
    "security code", "confirm", r"\btoken\b", "2fa", "two-factor", "authenticat", "password",
    # de, fr, es, it, pt, nl, pl, sv/da/no, tr, ru
    "bestätigung", "sicherheits", "einmal", r"\btan\b", "kennwort", "anmelde", "prüf",
    "vérification", "confirmation", "mot de passe", "usage unique", "code d",
    "código", "codigo", "verificación", "contraseña", "clave", "un solo uso",
    "codice", "verifica", "monouso", "conferma",
    "verificação", "senha", "confirmação",
    "verificatie", "bevestig", "eenmalig", "wachtwoord",
    r"\bkod\w*", "weryfikac", "jednorazow", "hasło", "potwierdz",
    "engångs", "bekräft", "doğrulama", r"\bşifre", "код", "пароль", "подтвержд",
    # ja, zh, ko
    "コード", "認証", "確認", "ワンタイム", "パスワード", "暗証",
    "验证码", "驗證碼", "校验码", "动态码", "验证", "驗證", "密码", "密碼", "代码", "代碼",
    "인증", "코드", "번호", "비밀번호",
]  # fmt: skip
_KEYWORD_RE = re.compile("|".join(_KEYWORDS), re.IGNORECASE)
_CODE_RE = re.compile(
    r"(?<![A-Za-z0-9_./#$€£¥@%+=-])(?<!\d[ -])"
    r"(\d{3}[ -]\d{3}|\d{4}[ -]\d{4}|\d\d \d\d \d\d|\d{4,8}|[A-Za-z0-9]{4,8}"
    r"|[A-Z0-9]{3,4}-[A-Z0-9]{3,4})"
    r"(?![A-Za-z0-9_/@%]|[.,]\d|[-:]\w|[ -]\d)"
)
# An address starts where a run of its characters starts: without the look-behind, a long run
# with no "@" would be read again from each of its characters (quadratic).
_NOISE_RE = re.compile(
    r"(?:https?://|www\.)\S+|(?<![\w.+-])[\w.+-]+@[\w-]+\.[\w.-]+|&\w+;|#[0-9a-fA-F]{3,8}\b",
    re.IGNORECASE,
)
_LETTER_DASH = re.compile(r"\b([A-Z])-(\d{4,8})\b")  # Google's "G-123456": the code is 123456
_NEAR = 120  # characters between a keyword and a code
_TIGHTEN = re.compile(r" ([.,;:!?)\]])")  # "<b>1234</b>." reads "1234 ." once tags become spaces
_MIN_SCORE = 50.0  # below this a number is more likely a year, a price or an order number
_NOT_A_CODE = re.compile(
    r"(?:order|invoice|ticket|booking|reference|ref|account|no|nr|bestell\w*|commande|pedido)"
    r"\W{0,3}$",
    re.IGNORECASE,
)


def _plausible(token: str) -> bool:
    bare = token.replace(" ", "").replace("-", "")
    if bare.isdigit():
        return 4 <= len(bare) <= 8
    has_digit = any(c.isdigit() for c in bare)
    has_alpha = any(c.isalpha() for c in bare)
    shouty = bare.upper() == bare
    return has_digit and has_alpha and (shouty or sum(c.isdigit() for c in bare) >= 2)


def _score(token: str, distance: int, before: bool, alone: bool, prefix: str) -> float:
    bare = token.replace(" ", "").replace("-", "")
    score = 100.0 - distance * 0.5 + (5 if before else 0) + (15 if alone else 0)
    if _NOT_A_CODE.search(prefix):
        score -= 60  # "Order 12345678": a number, but not one to type in
    if bare.isdigit():
        score += 10 if len(bare) == 6 else 4
        if len(bare) == 4 and re.fullmatch(r"(19|20)\d\d", bare):
            score -= 55  # a year, more likely than a code
    return score


_CONTEXT_CHARS = 160
# Collapsed characters kept per line: tightening drops at most every other one, so these
# give the same first 160 as the whole line would.
_CONTEXT_SOURCE = 4 * _CONTEXT_CHARS


class _Lines:
    """The lines of a text, for the context of each code: found by bisection over the line
    breaks (found once), each line's collapsed start computed once. Linear in the text,
    however many codes share a line."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.breaks = [m.start() for m in re.finditer("\n", text)]
        self._collapsed: dict[int, tuple[str, bool]] = {}

    def index(self, position: int) -> int:
        """The number of the line holding ``position``."""
        return bisect_right(self.breaks, position - 1) if position else 0

    def bounds(self, number: int) -> tuple[int, int]:
        start = self.breaks[number - 1] + 1 if number else 0
        end = self.breaks[number] if number < len(self.breaks) else len(self.text)
        return start, end

    def collapsed(self, number: int) -> tuple[str, bool]:
        """The line's start with white space collapsed, and whether that is the whole line."""
        known = self._collapsed.get(number)
        if known is None:
            start, end = self.bounds(number)
            line = " ".join(self.text[start:end].split())
            known = (line[:_CONTEXT_SOURCE], len(line) <= _CONTEXT_SOURCE)
            self._collapsed[number] = known
        return known


def _context(lines: _Lines, start: int, end: int) -> tuple[str, bool]:
    """The line a code is on (with the line above when the code stands alone), and if it does.

    "The line above" is the nearest line before with any text (blank lines are skipped).
    """
    number = lines.index(start)
    line, whole = lines.collapsed(number)
    alone = whole and line == lines.text[start:end]
    if alone:
        above = ""
        for before in range(number - 1, -1, -1):
            above = lines.collapsed(before)[0]
            if above:
                break
        line = f"{above} {line}".strip()
    return _TIGHTEN.sub(r"\1", line)[:_CONTEXT_CHARS], alone


def _nearest(starts: list[int], ends: list[int], start: int, end: int) -> tuple[int, bool] | None:
    """The distance to the nearest code word around ``start:end`` and whether it comes before;
    None when none is within ``_NEAR``. Code words do not overlap, so their starts and ends are
    both sorted: the nearest before is the last to end by ``start``, the nearest after the first
    to start from ``end`` (at equal distance, the one after wins)."""
    near: list[tuple[int, bool]] = []
    before = bisect_right(ends, start) - 1
    if before >= 0:
        near.append((start - ends[before], True))
    after = bisect_left(starts, end)
    if after < len(starts):
        near.append((starts[after] - end, False))
    near = [item for item in near if item[0] <= _NEAR]
    return min(near) if near else None


# Regular expressions run over the text a window at a time (see _finditer).
_WINDOW = 32 * 1024
_OVERLAP = 1024  # longer than a code or a code word


def _finditer(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)``, read one window at a time.

    A regular expression runs in C without letting other threads take the GIL: one search
    through a megabyte with no match (``"a" * 1_000_000`` for the code words) held up every
    other thread, the server's event loop included, for a second. Here each search stops at
    the end of a window (plus an overlap, so that a match starting in the window is seen
    whole; one still reaching the overlap's end is matched again without the limit), so the
    scan lets the loop in every ``_WINDOW`` characters.
    """
    pos, size = 0, len(text)
    while pos < size:
        stop = min(pos + _WINDOW, size)
        limit = min(stop + _OVERLAP, size)
        for match in pattern.finditer(text, pos, limit):
            if match.start() >= stop:
                break
            if match.end() == limit < size:  # maybe cut short by the limit: match it whole
                match = pattern.match(text, match.start()) or match
            yield match
            stop = max(stop, match.end())
        pos = stop


def _blanked(pattern: re.Pattern[str], text: str) -> str:
    """``text`` with every match of ``pattern`` turned into spaces (same offsets)."""
    pieces, last = [], 0
    for match in _finditer(pattern, text):
        pieces += [text[last : match.start()], " " * (match.end() - match.start())]
        last = match.end()
    pieces.append(text[last:])
    return "".join(pieces)


def _undashed(text: str) -> str:
    """``G-123456`` as ``G 123456`` (same offsets), so the code is read on its own."""
    pieces, last = [], 0
    for match in _finditer(_LETTER_DASH, text):
        dash = match.start() + 1
        pieces += [text[last:dash], " "]
        last = dash + 1
    pieces.append(text[last:])
    return "".join(pieces)


def _codes_in(text: str) -> list[FoundCode]:
    text = _blanked(_NOISE_RE, text[:MAX_SCAN_CHARS])
    starts, ends = [], []
    for keyword in _finditer(_KEYWORD_RE, text):
        starts.append(keyword.start())
        ends.append(keyword.end())
    lines = _Lines(text)
    found: list[FoundCode] = []
    for match in _finditer(_CODE_RE, _undashed(text)):  # same offsets
        token, start, end = match.group(1), match.start(1), match.end(1)
        if not _plausible(token) or _KEYWORD_RE.fullmatch(token):
            continue
        nearest = _nearest(starts, ends, start, end)
        if nearest is None:
            continue
        distance, before = nearest
        line, alone = _context(lines, start, end)
        bare = token.replace(" ", "").replace("-", "")
        code = bare if bare.isdigit() else token
        prefix = text[max(0, start - 20) : start]
        found.append(FoundCode(code, line, _score(token, distance, before, alone, prefix)))
    return found


def find_codes(text: str, html: str) -> list[FoundCode]:
    """One-time codes near a code word, best first, one entry per code."""
    found = _codes_in(text) + (_codes_in(html_text(html)) if html else [])
    best: dict[str, FoundCode] = {}
    for item in found:
        key = item.code.replace("-", "").upper()
        if key not in best or item.score > best[key].score:
            best[key] = item
    return sorted((c for c in best.values() if c.score >= _MIN_SCORE), key=lambda c: -c.score)
