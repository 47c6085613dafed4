"""Links and one-time codes pulled out of a corpus of realistic transactional emails.

The corpus (``corpus/*.eml``) holds a password reset, a magic link (HTML only), OTP mails in
ten languages, an alphanumeric code in an HTML table, and tracking-wrapped links. Each mail is
checked through the parser the server uses, then through the REST API over real SMTP and HTTP.
"""

from __future__ import annotations

import smtplib
from pathlib import Path

import httpx
import pytest

from mailsandbox import mime
from mailsandbox.extract import find_codes, find_links

CORPUS = Path(__file__).parent / "corpus"

# mail → the codes expected, best first (exactly these: no year, phone or order number)
EXPECTED_CODES = {
    "otp_en_text_only": ["482913"],
    "otp_de": ["739201"],
    "otp_fr": ["581204"],
    "otp_es_grouped": ["902113"],
    "otp_it": ["3318"],
    "otp_pt": ["664020"],
    "otp_nl": ["7QK-4MZ"],
    "otp_pl": ["447192"],
    "otp_ja": ["284716"],
    "otp_zh": ["639045"],
    "otp_alnum_html": ["K7F2QX"],
    "password_reset": [],
    "magic_link_html_only": [],
    "tracking_wrapped": [],
}


def parsed(name: str) -> mime.ParsedMessage:
    return mime.parse_message((CORPUS / f"{name}.eml").read_bytes())


@pytest.mark.parametrize("name", sorted(EXPECTED_CODES))
def test_codes_in_corpus(name: str) -> None:
    message = parsed(name)
    codes = find_codes(message.text, message.html)
    assert [c.code for c in codes] == EXPECTED_CODES[name]
    for code in codes:  # the context is the line the code is on, so a reader can check it
        assert code.code.replace("-", "") in code.context.replace(" ", "").replace("-", "")


def test_password_reset_links_decode_entities_and_keep_anchor_text() -> None:
    message = parsed("password_reset")
    links = find_links(message.text, message.html)
    assert [(link.url, link.text, link.part) for link in links] == [
        ("https://app.acme.example/reset?token=Zx81kQ&uid=42", "Reset password", "html"),
        ("https://help.acme.example/articles/reset", "Visit our help centre", "html"),
        ("https://acme.example/u?e=ann%40example.com", "Unsubscribe", "html"),
    ]  # the text part repeats all three (deduplicated); "#top" leads nowhere


def test_magic_link_in_html_only_mail_uses_image_alt_as_text() -> None:
    message = parsed("magic_link_html_only")
    links = find_links(message.text, message.html)
    magic = "https://notes.example/auth/magic?token=eyJhbGciOiJIUzI1NiJ9.abc.def&redirect=%2Fhome"
    assert [(link.url, link.text) for link in links] == [
        (magic, "Sign in to Notes"),
        ("mailto:security@notes.example", "Tell us"),
    ]


def test_tracking_wrapped_links_expose_their_target() -> None:
    message = parsed("tracking_wrapped")
    links = {link.text: link for link in find_links(message.text, message.html)}
    assert links["Confirm my email"].target == "https://app.shop.example/confirm?t=q1w2e3"
    assert links["Track your order"].url.startswith("https://eur01.safelinks")
    assert links["Track your order"].target == "https://shop.example/orders/77"
    assert links["Browse deals"].target == ""  # opaque click tracking cannot be unwrapped
    assert len(links) == 3  # the text part's copies, one inside "(...).", are the same links


def test_text_only_links_get_the_words_before_them() -> None:
    text = "Confirm your account: https://app.example/confirm?t=xyz.\nHelp (https://x.example/h)"
    links = find_links(text, "")
    assert [(link.url, link.text, link.part) for link in links] == [
        ("https://app.example/confirm?t=xyz", "Confirm your account", "text"),
        ("https://x.example/h", "Help", "text"),
    ]


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("Your PIN: 1234", ["1234"]),
        ("Use code 123-456 to log in", ["123456"]),
        ("Your OTP is A1B2C3D4", ["A1B2C3D4"]),
        ("shopping list 1234 and 5678", []),  # no code word ("pin" inside a word does not count)
        ("Order confirmation #123456", []),
        ("Your code: call 0800 123 456 7", []),  # a phone number is not a grouped code
        ("Verification code 555123 (price $1234, ref: 99887766)", ["555123"]),
        ("G-123456 is your Google verification code.", ["123456"]),
        ("Votre code : 12 34 56", ["123456"]),
        ("Ihr Code: 1234. Gültig bis 2026.", ["1234"]),  # the year is not a second code
        ("Your confirmation code: ABC-123", ["ABC-123"]),
    ],
)
def test_code_heuristics(text: str, codes: list[str]) -> None:
    assert [c.code for c in find_codes(text, "")] == codes


def test_code_in_inline_html_markup_reads_naturally() -> None:
    codes = find_codes("", "<p>Your code is <b>418263</b>.</p><p>Thanks</p>")
    assert [(c.code, c.context) for c in codes] == [("418263", "Your code is 418263.")]


def send_corpus(smtp: smtplib.SMTP, name: str) -> None:
    raw = (CORPUS / f"{name}.eml").read_bytes().replace(b"\n", b"\r\n")  # smtplib sends bytes as-is
    smtp.sendmail("sender@example.com", ["ann@example.com"], raw)


def test_api_links_and_codes_for_a_message_and_latest(
    smtp: smtplib.SMTP, api: httpx.Client
) -> None:
    send_corpus(smtp, "otp_de")
    send_corpus(smtp, "password_reset")
    first, second = api.get("/api/v1/messages").json()["messages"][::-1]

    codes = api.get(f"/api/v1/message/{first['ID']}/codes")
    assert codes.status_code == 200
    assert codes.json() == {
        "codes": [{"code": "739201", "context": "Ihr Bestätigungscode lautet: 739201"}],
        "truncated": False,
    }
    links = api.get("/api/v1/message/latest/links").json()["links"]
    assert links[0] == {
        "url": "https://app.acme.example/reset?token=Zx81kQ&uid=42",
        "text": "Reset password",
        "part": "html",
        "target": "",
    }
    assert api.get("/api/v1/message/latest/codes").json() == {"codes": [], "truncated": False}
    latest_de = api.get("/api/v1/message/latest/codes", params={"query": "subject:Bestätigung"})
    assert latest_de.json()["codes"][0]["code"] == "739201"
    assert second["Subject"] == "Reset your Acme password"


def test_api_unknown_message_and_empty_mailbox_are_404(api: httpx.Client) -> None:
    for path in ("/api/v1/message/nope/links", "/api/v1/message/latest/codes"):
        response = api.get(path)
        assert response.status_code == 404
        assert response.json() == {"Error": "Message not found"}


def test_api_bad_latest_query_is_400(smtp: smtplib.SMTP, api: httpx.Client) -> None:
    send_corpus(smtp, "otp_fr")
    response = api.get("/api/v1/message/latest/codes", params={"query": "x" * 5000})
    assert response.status_code == 400
    assert "Error" in response.json()
