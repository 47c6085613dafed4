"""A tiny Django shop, the way a user's project would look: sign-up sends a confirmation mail
(with a link and a one-time code) through whatever EMAIL_BACKEND is configured (SMTP, or
SendGrid or Mailgun via anymail), and SendGrid's event webhook (anymail) disables bounced addresses.
A support ticket mail carries a Reply-To of the ticket's own, and the customer's reply comes back
through Mailgun's inbound webhook (anymail). State lives in memory; the app knows nothing about
mailsandbox.
"""

from __future__ import annotations

import secrets
import threading

import django
from anymail.signals import AnymailInboundEvent, AnymailTrackingEvent, inbound, tracking
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

PENDING: dict[str, tuple[str, str]] = {}  # token -> (email, code)
CONFIRMED: set[str] = set()
DISABLED: set[str] = set()
REPLIES: dict[str, str] = {}  # support ticket -> the customer's reply (without the quote)
SUPPORT_DOMAIN = "support.shop.example"
CHANGED = threading.Condition()
WEBHOOK_AUTH = "hook:s3cret"


@csrf_exempt
def signup(request: HttpRequest) -> HttpResponse:
    email = request.POST["email"]
    if email in DISABLED:
        return HttpResponse("this address bounced", status=409)
    token, code = secrets.token_urlsafe(12), f"{secrets.randbelow(10**6):06d}"
    PENDING[token] = (email, code)
    link = request.build_absolute_uri(f"/confirm?token={token}")
    mail = EmailMultiAlternatives(
        "Confirm your account",
        f"Welcome to the shop!\n\nConfirm your address: {link}\n\nOr enter the code {code}.\n",
        to=[email],
    )
    mail.attach_alternative(
        f'<p>Welcome to the shop!</p><p><a href="{link}">Confirm my address</a></p>'
        f"<p>Your verification code: <b>{code}</b></p>",
        "text/html",
    )
    mail.send()
    return HttpResponse("check your mail")


def confirm(request: HttpRequest) -> HttpResponse:
    entry = PENDING.pop(request.GET.get("token", ""), None)
    if entry is None:
        return HttpResponse("unknown token", status=404)
    CONFIRMED.add(entry[0])
    return HttpResponse(f"confirmed {entry[0]}")


@csrf_exempt
def verify(request: HttpRequest) -> HttpResponse:
    for token, (email, code) in list(PENDING.items()):
        if email == request.POST["email"] and code == request.POST["code"]:
            del PENDING[token]
            CONFIRMED.add(email)
            return HttpResponse(f"confirmed {email}")
    return HttpResponse("wrong code", status=400)


@csrf_exempt
def ticket(request: HttpRequest) -> HttpResponse:
    number = secrets.token_hex(4)
    mail = EmailMultiAlternatives(
        f"Ticket {number}: we are on it",
        "Thanks for writing. Reply to this mail to add to your ticket.\n",
        to=[request.POST["email"]],
        reply_to=[f"support+{number}@{SUPPORT_DOMAIN}"],
    )
    mail.send()
    return HttpResponse(number)


def on_inbound(sender: object, event: AnymailInboundEvent, esp_name: str, **_: object) -> None:
    local = (event.message.envelope_recipient or "").partition("@")[0]
    if local.startswith("support+"):
        with CHANGED:
            REPLIES[local.removeprefix("support+")] = event.message.stripped_text or ""
            CHANGED.notify_all()


def wait_reply(number: str, timeout: float) -> str | None:
    with CHANGED:
        CHANGED.wait_for(lambda: number in REPLIES, timeout)
        return REPLIES.get(number)


def on_tracking(sender: object, event: AnymailTrackingEvent, esp_name: str, **_: object) -> None:
    if event.event_type == "bounced" and event.recipient:
        with CHANGED:
            DISABLED.add(event.recipient)
            CHANGED.notify_all()


def wait_disabled(email: str, timeout: float) -> bool:
    with CHANGED:
        return CHANGED.wait_for(lambda: email in DISABLED, timeout)


urlpatterns = [
    path("signup", signup),
    path("confirm", confirm),
    path("verify", verify),
    path("ticket", ticket),
    path("anymail/", include("anymail.urls")),
]


def setup(**overrides: object) -> None:
    """Configure Django for the shop (``overrides`` replace settings, e.g. ``DATABASES``)."""
    values: dict[str, object] = {
        "SECRET_KEY": "not-secret",
        "ROOT_URLCONF": __name__,
        "ALLOWED_HOSTS": ["*"],
        "INSTALLED_APPS": ["anymail"],
        "MIDDLEWARE": [],
        "DATABASES": {},
        "DEFAULT_FROM_EMAIL": "Shop <hello@shop.example>",
        "ANYMAIL": {"WEBHOOK_SECRET": WEBHOOK_AUTH},
    }
    settings.configure(**{**values, **overrides})
    django.setup()
    tracking.connect(on_tracking)
    inbound.connect(on_inbound)
