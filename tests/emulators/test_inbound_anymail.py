"""PROOF of inbound mail against the real consumers: django-anymail's SendGrid and Mailgun
*inbound* webhook views (Mailgun signature checks ON, Basic auth from the URL's userinfo) in a
real Django app on a real port receive every POST the sandbox makes, and expose the right
from / to / subject / text / html / attachments (bytes equal) and envelope, for a plain reply
(``Client.reply``), an HTML reply with an inline image and a PDF (over SMTP), a non-ASCII
subject (``Client.inbound``), in parsed and raw mode; and Mailgun's ``store(notify=...)``,
whose stored message is then fetched (JSON, raw MIME parsed by anymail, each attachment URL).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from anymail.inbound import AnymailInboundMessage
from anymail.signals import AnymailInboundEvent, inbound
from django.test import override_settings

from mailsandbox.client import Client, Message
from mailsandbox.runner import RunningSandbox
from tests.emulators.django_settings import serve_django
from tests.sandbox.events.receiver import Receiver
from tests.waiting import eventually

pytestmark = pytest.mark.filterwarnings("ignore::Warning")
SECRET = "hook:s3cret"
HOST = "inbound.example.com"
MG_KEY = "key-inbound"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SUBJECT = "Grüße aus Köln, 日本語のテスト"
REPLY_TO = f"reply+order42@{HOST}"


@dataclass
class Inbox:
    """What anymail's ``inbound`` signal delivered, in order."""

    events: list[tuple[str, AnymailInboundEvent]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, sender: Any, event: AnymailInboundEvent, esp_name: str, **_: Any) -> None:
        with self.lock:
            self.events.append((esp_name, event))

    def wait(self, count: int) -> list[AnymailInboundMessage]:
        found = eventually(lambda: len(self.events) >= count and list(self.events), timeout=20)
        assert len(found) == count, [e.message.subject for _, e in found]
        return [event.message for _, event in found]


@pytest.fixture(scope="module")
def django_url() -> Iterator[str]:
    with serve_django() as url:
        yield url


@pytest.fixture
def received() -> Iterator[Inbox]:
    collector = Inbox()
    inbound.connect(collector, weak=False)
    yield collector
    inbound.disconnect(collector)


def hook(base: str, path: str) -> str:
    return base.replace("http://", f"http://{SECRET}@") + f"/anymail/{path}/"


def sendgrid_parse(running: RunningSandbox, url: str, raw: bool) -> dict[str, str]:
    setting = {"hostname": HOST, "url": url, "send_raw": raw, "spam_check": True}
    created = httpx.post(f"{running.url}/v3/user/webhooks/parse/settings", json=setting)
    assert created.status_code == 201, created.text
    return {"WEBHOOK_SECRET": SECRET}


def mailgun_route(running: RunningSandbox, action: str) -> dict[str, str]:
    with httpx.Client(base_url=running.url, auth=("api", MG_KEY)) as client:
        route = {"expression": f'match_recipient(".*@{HOST}")', "action": [action, "stop()"]}
        assert client.post("/v3/routes", data=route).status_code == 200
        key = client.get("/v5/accounts/http_signing_key").json()["http_signing_key"]
    return {"WEBHOOK_SECRET": SECRET, "MAILGUN_WEBHOOK_SIGNING_KEY": key}


def notification(running: RunningSandbox) -> str:
    """What the app sent the customer (over SMTP): a reply goes to its Reply-To."""
    msg = EmailMessage()
    msg["From"] = "Shop <notify@shop.example.com>"
    msg["To"] = "Ann Customer <ann@example.com>"
    msg["Reply-To"] = REPLY_TO
    msg["Subject"] = "Your order #42 has shipped"
    msg.set_content("Your parcel is on its way.\nTrack it at https://shop.example.com/t/42\n")
    with smtplib.SMTP(running.smtp_host, running.smtp_port) as smtp:
        smtp.send_message(msg)
    with Client(running.url) as client:
        return client.wait_for(subject="Your order #42", timeout=10).id


def html_reply() -> EmailMessage:
    """An HTML reply with an inline image and a PDF, as a mail client builds it."""
    msg = EmailMessage()
    msg["From"] = "Ann Customer <ann@example.com>"
    msg["To"] = f"support@{HOST}"
    msg["Subject"] = "Re: Your order #42 has shipped"
    msg.set_content("Here is a photo of the box, and the invoice.\n")
    msg.add_alternative('<p>Here is a photo of the box:</p><img src="cid:photo1">', subtype="html")
    html_part = msg.get_payload()[1]
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(
        PNG, "image", "png", cid="<photo1>", filename="box.png", disposition="inline"
    )
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="invoice.pdf")
    return msg


def send_the_three(running: RunningSandbox) -> Message:
    """The plain reply, the HTML reply (SMTP), the non-ASCII one; returns the original."""
    with Client(running.url) as client:
        original = client.get(notification(running))
        client.reply(original, text="Thanks, it arrived!")
        with smtplib.SMTP(running.smtp_host, running.smtp_port) as smtp:
            smtp.send_message(html_reply(), from_addr="ann@example.com")
        client.inbound(f"help@{HOST}", SUBJECT, "Ünïcödé ✓", from_="Zoë Ñandú <zoe@example.com>")
        return original


def check_the_three(messages: list[AnymailInboundMessage], original: Message) -> None:
    """(POSTs go out concurrently: matched by envelope recipient, not by order)"""
    by_recipient = {m.envelope_recipient: m for m in messages}
    plain, rich, unicode = (
        by_recipient[f"{box}@{HOST}"] for box in ("reply+order42", "support", "help")
    )
    assert plain.from_email.addr_spec == "ann@example.com"
    assert [a.addr_spec for a in plain.to] == [f"reply+order42@{HOST}"]
    assert plain.subject == "Re: Your order #42 has shipped"
    assert plain.text.startswith("Thanks, it arrived!") and "> Your parcel is on its way." in (
        plain.text
    )
    assert plain["In-Reply-To"] == f"<{original.message_id}>"
    assert plain.envelope_recipient == f"reply+order42@{HOST}"
    assert plain.envelope_sender == "ann@example.com"

    assert rich.from_email.display_name == "Ann Customer"
    assert rich.text.strip() == "Here is a photo of the box, and the invoice."
    assert '<img src="cid:photo1">' in rich.html
    assert rich.content_id_map["photo1"].get_content_bytes() == PNG
    assert rich.content_id_map["photo1"].get_content_type() == "image/png"
    [pdf] = rich.attachments
    assert (pdf.get_filename(), pdf.get_content_type()) == ("invoice.pdf", "application/pdf")
    assert pdf.get_content_bytes() == PDF
    assert rich.envelope_recipient == f"support@{HOST}"

    assert unicode.subject == SUBJECT
    assert unicode.text.strip() == "Ünïcödé ✓"
    assert unicode.from_email.display_name == "Zoë Ñandú"
    assert unicode.envelope_recipient == f"help@{HOST}"


Setup = Callable[[RunningSandbox, str], dict[str, str]]
SETUPS: dict[str, Setup] = {
    "sendgrid-parsed": lambda r, base: sendgrid_parse(r, hook(base, "sendgrid/inbound"), False),
    "sendgrid-raw": lambda r, base: sendgrid_parse(r, hook(base, "sendgrid/inbound"), True),
    "mailgun-parsed": lambda r, base: mailgun_route(
        r, f'forward("{hook(base, "mailgun/inbound")}")'
    ),
    "mailgun-mime": lambda r, base: mailgun_route(
        r, f'forward("{hook(base, "mailgun/inbound_mime")}")'
    ),
}


@pytest.mark.parametrize("setup", list(SETUPS))
def test_anymail_inbound_views_accept_every_post(
    running: RunningSandbox, django_url: str, received: Inbox, setup: str
) -> None:
    anymail = SETUPS[setup](running, django_url)
    with override_settings(ANYMAIL=anymail):
        original = send_the_three(running)
        check_the_three(received.wait(3), original)
    esp = {e for e, _ in received.events}
    assert esp == {"SendGrid" if setup.startswith("sendgrid") else "Mailgun"}
    plain = next(m for _, e in received.events if (m := e.message).envelope_recipient == REPLY_TO)
    if setup == "mailgun-parsed":  # Mailgun's own reply split
        assert plain.stripped_text == "Thanks, it arrived!"
    if setup == "sendgrid-parsed":  # spam_check on: the score is posted
        assert plain.spam_score == 0.0

    def logged() -> list[dict[str, Any]]:  # an attempt is logged once the answer is read
        found = httpx.get(f"{running.url}/api/v1/webhooks/deliveries").json()["deliveries"]
        return list(found) if len(found) == 3 else []

    assert {d["Status"] for d in eventually(logged)} == {200}


def test_mailgun_store_notify_then_fetch_the_stored_message(
    running: RunningSandbox, receiver: Receiver
) -> None:
    keys = mailgun_route(running, f'store(notify="{receiver.url}/stored")')
    with smtplib.SMTP(running.smtp_host, running.smtp_port) as smtp:
        smtp.send_message(html_reply(), from_addr="ann@example.com")
    [note] = receiver.wait_for(1)
    assert note.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = {k: v[-1] for k, v in parse_qs(note.body.decode(), keep_blank_values=True).items()}
    signed = (form["timestamp"] + form["token"]).encode()
    key = keys["MAILGUN_WEBHOOK_SIGNING_KEY"].encode()
    assert form["signature"] == hmac.new(key, signed, hashlib.sha256).hexdigest()
    assert (form["recipient"], form["sender"], form["domain"]) == (
        f"support@{HOST}",
        "ann@example.com",
        HOST,
    )
    assert form["subject"] == "Re: Your order #42 has shipped"
    url = form["message-url"]
    assert url.startswith(f"{running.url}/v3/domains/{HOST}/messages/")

    with httpx.Client(auth=("api", MG_KEY)) as mailgun:
        stored = mailgun.get(url).json()
        assert stored["recipients"] == f"support@{HOST}" and stored["from"] == form["from"]
        assert '<img src="cid:photo1">' in stored["body-html"]
        files = {a["name"]: a for a in stored["attachments"]}
        assert set(files) == {"box.png", "invoice.pdf"}
        assert json.loads(form["attachments"]) == stored["attachments"]
        assert mailgun.get(files["invoice.pdf"]["url"]).content == PDF
        assert mailgun.get(stored["content-id-map"]["<photo1>"]["url"]).content == PNG

        raw = mailgun.get(url, headers={"Accept": "message/rfc2822"}).json()["body-mime"]
        message = AnymailInboundMessage.parse_raw_mime(raw)
        assert message.subject == "Re: Your order #42 has shipped"
        assert message["X-Mailgun-Incoming"] == "Yes"
        assert message.content_id_map["photo1"].get_content_bytes() == PNG
        assert [a.get_content_bytes() for a in message.attachments] == [PDF]

        elsewhere = url.replace(f"/domains/{HOST}/", "/domains/other.example.org/")
        assert mailgun.get(elsewhere).status_code == 404


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server
