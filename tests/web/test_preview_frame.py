"""The HTML preview frame in a real browser: as tall as the mail at Desktop width, device-sized
and scrolling at Tablet and Phone width, Phone first on a phone, and still inert."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from playwright.sync_api import Page, expect

from tests.waiting import eventually
from tests.web.conftest import Beacon, Sender
from tests.web.mail import tiny_png

pytestmark = pytest.mark.browser


def html_mail(subject: str, html: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "news@example.com"
    msg["To"] = "bob@example.com"
    msg["Subject"] = subject
    msg.set_content("text")
    msg.add_alternative(html, subtype="html")
    return msg


def frame_box(page: Page) -> dict[str, float]:
    """The frame's size and the mail's, read from our page (the frame is same-origin)."""
    box: dict[str, float] = page.evaluate(
        """() => {
          const frame = document.getElementById('preview');
          const doc = frame.contentDocument;
          const scroller = doc.scrollingElement;  // <body> in quirks mode
          const end = doc.getElementById('end');  // every test mail ends with this marker
          return {width: frame.offsetWidth, height: frame.offsetHeight,
                  end: end ? end.getBoundingClientRect().bottom + frame.contentWindow.scrollY : 0,
                  viewport: frame.contentWindow.innerHeight, content: scroller.scrollHeight,
                  scrollY: frame.contentWindow.scrollY};
        }"""
    )
    return box


def open_message(page: Page, subject: str) -> None:
    page.goto("/")
    page.click(f".msg:has-text('{subject}') a")
    expect(page.frame_locator("#preview").locator("#end")).to_be_attached()


def fits(page: Page) -> dict[str, float]:
    """Wait until the frame shows the whole mail and nothing more; return the sizes."""

    def check() -> dict[str, float]:
        box = frame_box(page)
        assert box["content"] <= box["viewport"] + 1, box  # nothing hidden below
        assert box["viewport"] - box["end"] <= 24, box  # no blank below the mail's end
        return box

    return eventually(check, timeout=10)


def test_short_mail_gets_a_short_frame(page: Page, send: Sender) -> None:
    send(html_mail("short", "<p style='margin:0;padding:20px'>Hi Bob.</p><i id='end'></i>"))
    open_message(page, "short")
    box = fits(page)
    assert box["height"] < 100, box  # no 450 px of blank under a one-line mail


def test_full_height_layouts_do_not_keep_the_old_size(page: Page, send: Sender) -> None:
    html = (
        "<html style='height:100%'><body style='height:100%;margin:0'>"
        "<table height='100%' width='100%'><tr><td>Centred</td></tr></table><i id='end'></i>"
        "</body></html>"
    )
    send(html_mail("full height", html))
    open_message(page, "full height")
    assert fits(page)["height"] < 120


def test_long_mail_grows_and_images_that_load_later_count(page: Page, send: Sender) -> None:
    msg = html_mail(
        "long",
        "<div style='height:2500px;background:#eef'>tall</div>"
        '<img id="late" src="cid:tall@x" alt=""><i id="end"></i>',
    )
    html_part = msg.get_body(preferencelist=("html",))
    assert html_part is not None
    html_part.add_related(tiny_png(2, 700), maintype="image", subtype="png", cid="<tall@x>")
    send(msg)
    open_message(page, "long")
    box = fits(page)
    assert box["height"] >= 2500 + 700, box
    page.set_viewport_size({"width": 900, "height": 700})  # reflow: still fits
    fits(page)


def test_tablet_and_phone_are_device_sized_and_scroll(page: Page, send: Sender) -> None:
    send(html_mail("devices", "<div style='height:3000px'>tall</div><i id='end'></i>"))
    open_message(page, "devices")
    fits(page)
    page.click("button[data-width=tablet]")
    expect(page.locator("#preview")).to_have_js_property("offsetWidth", 768)
    expect(page.locator("#preview")).to_have_js_property("offsetHeight", 1024)
    page.click("button[data-width=phone]")
    expect(page.locator("#preview")).to_have_js_property("offsetWidth", 375)
    expect(page.locator("#preview")).to_have_js_property("offsetHeight", 667)
    box = frame_box(page)
    assert box["content"] > box["viewport"]  # the mail is longer than the phone: it scrolls
    page.hover("#preview")
    page.mouse.wheel(0, 600)
    eventually(lambda: frame_box(page)["scrollY"] > 0)
    page.click("button[data-width=desktop]")
    assert fits(page)["height"] > 3000


def test_phone_starts_at_phone_width(page: Page, send: Sender) -> None:
    send(
        html_mail("on a phone", "<table width='600'><tr><td>wide</td></tr></table><i id='end'></i>")
    )
    page.set_viewport_size({"width": 390, "height": 844})
    open_message(page, "on a phone")
    expect(page.locator("button[data-width=phone]")).to_have_attribute("aria-pressed", "true")
    box = frame_box(page)
    panel = page.locator("#panel-html .frame-wrap").bounding_box()
    assert panel is not None and box["width"] <= panel["width"] <= 390
    assert box["height"] == 667
    widths = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert widths[0] <= widths[1], widths  # the wide mail scrolls inside the frame, not the page


def test_same_origin_frame_still_runs_nothing(page: Page, send: Sender, beacon: Beacon) -> None:
    send(
        html_mail(
            "pings",
            f'<a id="ping" href="#top" ping="{beacon.url}/ping">ping</a>'
            f"<script>parent.document.title='pwned';fetch('{beacon.url}/script')</script>"
            f"<img src=x onerror=\"parent.document.title='pwned'\"><i id='end'></i>",
        )
    )
    open_message(page, "pings")
    frame = page.frame_locator("#preview")
    expect(frame.locator("#ping")).to_have_attribute("data-blocked-ping", f"{beacon.url}/ping")
    expect(frame.locator("#ping")).not_to_have_attribute("ping", f"{beacon.url}/ping")
    frame.locator("#ping").click()
    expect(page).to_have_title("pings · mailsandbox")  # neither the script nor onerror ran
    assert beacon.hits == []
