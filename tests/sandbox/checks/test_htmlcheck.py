"""HTML compatibility check (Mailpit's html-check): detection, scores and the REST endpoint."""

from __future__ import annotations

from email.message import EmailMessage

import httpx
import pytest

from mailsandbox.checks import caniemail, htmlcheck
from mailsandbox.runner import RunningSandbox
from tests.sandbox.checks.conftest import deliver

# mailpit-api's e2e HTML (spec §12.1 worked example)
E2E_HTML = """<div style="text-align:center"><p>Mailpit is <b>awesome</b>!</p>
      <p>This is a test email with an inline image: <img src="cid:test-image" /></p></div>
      <p><a href="https://example.test">Example Link</a></p>"""
RESULT_KEYS = ["Name", "Platform", "Family", "Version", "Support", "NoteNumber"]
WARNING_KEYS = [
    "Slug", "Title", "Description", "URL", "Category", "Tags", "Keywords", "Results",
    "NotesByNumber", "Score",
]  # fmt: skip


def found(result: dict, slug: str) -> int:
    return next((w["Score"]["Found"] for w in result["Warnings"] if w["Slug"] == slug), 0)


def test_worked_example_matches_mailpit() -> None:
    result = htmlcheck.run(E2E_HTML)
    assert list(result) == ["Warnings", "Platforms", "Total"]
    assert result["Total"] == {
        "Tests": 186, "Nodes": 7, "Supported": 92.2619, "Partial": 7.7380953, "Unsupported": 0,
    }  # fmt: skip
    [warning] = result["Warnings"]
    assert list(warning) == WARNING_KEYS
    assert warning["Slug"] == "css-text-align" and warning["Tags"] == ["i18n"]
    assert warning["Keywords"] == ""
    assert warning["Score"] == {
        "Found": 1, "Supported": 45.833336, "Partial": 54.166668, "Unsupported": 0,
    }  # fmt: skip
    assert len(warning["Results"]) == 72
    assert all(list(r) == RESULT_KEYS for r in warning["Results"])
    ios = next(r for r in warning["Results"] if r["Name"] == "Apple Mail iOS (11)")
    assert ios == {
        "Name": "Apple Mail iOS (11)", "Platform": "ios", "Family": "apple-mail",
        "Version": "11", "Support": "partial", "NoteNumber": "5",
    }  # fmt: skip
    assert warning["NotesByNumber"]["1"] == (
        "Partial. Flow-relative values <code>start</code> and <code>end</code> are not supported."
    )


def test_platforms_are_the_data_files_families() -> None:
    assert htmlcheck.run(E2E_HTML)["Platforms"] == {
        "android": ["1&1", "AOL", "GMX", "Gmail", "LaPoste.net", "Orange", "Outlook",
                    "ProtonMail", "SFR", "Samsung Email", "WEB.DE", "Yahoo! Mail"],
        "desktop-webmail": ["1&1", "AOL", "Fastmail", "Free.fr", "GMX", "Gmail", "HEY",
                            "LaPoste.net", "Mail.ru", "Orange", "ProtonMail", "RainLoop", "SFR",
                            "T-online.de", "WEB.DE", "WP.pl", "Yahoo! Mail"],
        "ios": ["AOL", "Apple Mail", "GMX", "Gmail", "LaPoste.net", "Orange", "Outlook",
                "ProtonMail", "SFR", "WEB.DE", "Yahoo! Mail"],
        "macos": ["Apple Mail", "Mozilla Thunderbird", "Outlook"],
        "mobile-webmail": ["Gmail"],
        "outlook-com": ["Outlook"],
        "windows": ["Mozilla Thunderbird", "Outlook"],
        "windows-mail": ["Outlook"],
    }  # fmt: skip


def test_style_rules_count_once_per_element_they_apply_to() -> None:
    html = """<html><head><style>
      p.note { text-align: left; color: red }
      td { width: 120px; background-color: #eee }
      a:hover { text-decoration: underline }
      @media (max-width: 600px) { .wide { display: none } }
    </style></head><body>
      <p class="note">one</p><p class="note">two</p><p>three</p>
      <table><tr><td>a</td><td>b</td></tr></table>
      <a href="#top">top</a>
    </body></html>"""
    result = htmlcheck.run(html)
    assert found(result, "css-text-align") == 2  # only the two p.note
    # width/background-color: two <td> via the rule, +1 for the attributes premailer adds
    assert found(result, "css-width") == 3
    assert found(result, "css-background-color") == 3
    assert found(result, "css-text-decoration") == 0  # :hover rules are not inlined...
    assert found(result, "css-pseudo-class-hover") == 1  # ...but counted in the stylesheet
    assert found(result, "css-at-media") == 1
    assert found(result, "css-display-none") == 0  # inside @media: not inlined
    assert found(result, "html-style") == 1
    assert found(result, "html-body") == 1
    assert found(result, "html-anchor-links") == 1
    # every element but html/head/meta: style, body, 3 p, table, the implied tbody, tr, 2 td, a
    assert result["Total"]["Nodes"] == 11


def test_scripts_images_and_elements() -> None:
    html = (
        '<script>alert(1)</script><script type="application/ld+json">{}</script>'
        '<img src="a.gif"><img src="b.GIF"><img src="data:image/png;base64,AA=="><img src="c.webp">'
        '<form><input type="hidden" name="x"><button type="submit">Go</button></form>'
        "<svg></svg><video></video>"
    )
    result = htmlcheck.run(html)
    script = result["Warnings"][0]
    assert script["Slug"] == "html-script" and script["Score"]["Found"] == 1
    assert script["Score"]["Unsupported"] == 100 and script["Results"] == []
    assert found(result, "image-gif") == 2
    assert found(result, "image-base64") == 1
    assert found(result, "image-webp") == 1
    for slug in ("html-form", "html-input-hidden", "html-button-submit", "html-svg", "html-video"):
        assert found(result, slug) == 1, slug
    # 186 tests + the script test + Mailpit's double count of each element test found
    assert result["Total"]["Tests"] == 186 + 1 + 5
    # the worst feature leads (sorted by weighted unsupported + partial)
    weights = [
        (w["Score"]["Unsupported"] + w["Score"]["Partial"]) * w["Score"]["Found"]
        for w in result["Warnings"]
    ]
    assert weights == sorted(weights, reverse=True)


def test_markdown_is_escaped_and_links_absolute() -> None:
    html = caniemail.markdown("Use `<b>` & [SVG](/features/image-svg) <script>")
    assert html == (
        'Use <code>&lt;b&gt;</code> &amp; <a href="https://www.caniemail.com/features/image-svg"'
        ' target="_blank">SVG</a> &lt;script&gt;'
    )


def test_hostile_stylesheet_is_bounded() -> None:
    """Thousands of rules with deep descendant selectors over a deep tree still finish: the
    selector engine's step budget stops the inlining, the rest of the check runs."""
    rules = "".join(f"div div div div div div .c{i} {{ width: 1px }}\n" for i in range(3000))
    body = "<div>" * 200 + '<span class="c1">x</span>' + "</div>" * 200
    result = htmlcheck.run(f"<style>{rules}</style>{body}")
    assert result["Total"]["Nodes"] > 200


def test_endpoint(running: RunningSandbox, api: httpx.Client) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@example.com", "b@example.com", "html"
    msg.set_content("text")
    msg.add_alternative(E2E_HTML, subtype="html")
    message_id = deliver(running, msg.as_bytes())
    response = api.get(f"/api/v1/message/{message_id}/html-check")
    assert response.status_code == 200
    assert response.json()["Total"]["Nodes"] == 7
    assert api.get("/api/v1/message/latest/html-check").json() == response.json()
    # the check does not mark the message read (Mailpit's doesn't)
    assert api.get("/api/v1/messages").json()["messages"][0]["Read"] is False


@pytest.mark.parametrize(
    ("path", "status", "error"),
    [
        ("/api/v1/message/nope/html-check", 404, "Message not found"),
        ("/api/v1/message/{id}/html-check", 400, "message does not contain HTML"),
    ],
)
def test_endpoint_errors(
    running: RunningSandbox, api: httpx.Client, path: str, status: int, error: str
) -> None:
    message_id = deliver(running, b"From: a@example.com\r\nSubject: plain\r\n\r\nonly text\r\n")
    response = api.get(path.format(id=message_id))
    assert response.status_code == status
    assert response.json() == {"Error": error}
