"""Pull what a test needs out of an email body: its links and its one-time codes.

``find_links(text, html)`` lists every link of the HTML part (``href``, entities decoded, with the
anchor's text) and of the text part (bare URLs, with the words before them on the line),
deduplicated by URL, HTML first. Tracking-wrapped links whose target sits in a query parameter
(``?url=``, ``?redirect=``, Outlook safelinks, …) also get that ``target``.

``find_codes(text, html)`` finds one-time codes: 4-8 digit numbers (``123 456`` and ``123-456``
count) or 4-8 character letter+digit tokens, near a word such as *code*, *OTP*, *PIN*,
*verification* in one of many languages, best first, each with the line it was found on.
Pure functions: no I/O; the REST API, the client and the UI share them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

__all__ = ["FoundCode", "FoundLink", "find_codes", "find_links", "html_text"]


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
        scan.feed(html)
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


def _target(url: str) -> str:
    try:
        params = dict((k.lower(), v) for k, v in parse_qsl(urlsplit(url).query))
    except ValueError:
        return ""
    for key in _UNWRAP_KEYS:
        value = params.get(key, "")
        if value.lower().startswith(("http://", "https://")):
            return _target(value) or value
    return ""


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
    candidates += [(url, label, "text") for url, label in _text_urls(text)]
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
_NOISE_RE = re.compile(
    r"(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+\.[\w.-]+|&\w+;|#[0-9a-fA-F]{3,8}\b", re.IGNORECASE
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


def _context(text: str, start: int, end: int) -> tuple[str, bool]:
    """The line a code is on (with the line above when the code stands alone), and if it does."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line = " ".join(text[line_start : line_end if line_end >= 0 else len(text)].split())
    alone = line == text[start:end]
    if alone and line_start > 1:
        above = " ".join(text[: line_start - 1].rstrip().rsplit("\n", 1)[-1].split())
        line = f"{above} {line}".strip()
    return _TIGHTEN.sub(r"\1", line)[:160], alone


def _codes_in(text: str) -> list[FoundCode]:
    text = _NOISE_RE.sub(lambda m: " " * len(m.group(0)), text)
    keywords = [(m.start(), m.end()) for m in _KEYWORD_RE.finditer(text)]
    found: list[FoundCode] = []
    for match in _CODE_RE.finditer(_LETTER_DASH.sub(r"\1 \2", text)):  # same offsets
        token, start, end = match.group(1), match.start(1), match.end(1)
        if not _plausible(token) or _KEYWORD_RE.fullmatch(token):
            continue
        distances = [(start - k_end, True) for k_start, k_end in keywords if k_end <= start]
        distances += [(k_start - end, False) for k_start, k_end in keywords if k_start >= end]
        near = [(d, before) for d, before in distances if d <= _NEAR]
        if not near:
            continue
        distance, before = min(near)
        line, alone = _context(text, start, end)
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
