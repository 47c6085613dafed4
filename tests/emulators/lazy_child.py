"""Run by ``test_lazy_modules.py`` in a fresh interpreter (``python -m tests.emulators.lazy_child
<dir>``): starts a sandbox, notes which ``mailsandbox.emulators`` modules are imported at each
step (ready; after a SendGrid send and its webhook; after an inbound mail to a parse hostname),
and prints them with what the webhooks received, as one JSON object."""

from __future__ import annotations

import json
import smtplib
import sys
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx

from mailsandbox.config import Settings
from mailsandbox.runner import start_in_thread
from tests.sandbox.events.receiver import Receiver
from tests.waiting import eventually

SENDGRID = {"Authorization": "Bearer SG.key"}
PARSE_HOST = "parse.example.com"


def loaded() -> list[str]:
    return sorted(name for name in sys.modules if name.startswith("mailsandbox.emulators."))


def main(directory: Path) -> dict[str, Any]:
    settings = Settings.from_env(
        environ={}, smtp="127.0.0.1:0", http="127.0.0.1:0", db=str(directory / "sandbox.db")
    )
    running = start_in_thread(settings)
    report: dict[str, Any] = {"ready": loaded()}
    with Receiver() as receiver, httpx.Client(base_url=running.url, headers=SENDGRID) as http:
        hook = {"enabled": True, "url": f"{receiver.url}/events", "delivered": True}
        assert http.patch("/v3/user/webhooks/event/settings", json=hook).status_code == 200
        parse = {"hostname": PARSE_HOST, "url": f"{receiver.url}/parse"}
        assert http.post("/v3/user/webhooks/parse/settings", json=parse).status_code == 201
        report["routes_only"] = loaded()  # the routes are in, no message or event yet

        send = {
            "personalizations": [{"to": [{"email": "to@example.com"}]}],
            "from": {"email": "from@example.com"},
            "subject": "lazy",
            "content": [{"type": "text/plain", "value": "hello"}],
        }
        assert http.post("/v3/mail/send", json=send).status_code == 202
        events = eventually(
            lambda: [
                event
                for r in receiver.accepted
                if r.path == "/events"
                for event in r.json()
                if event["event"] == "delivered"
            ],
            timeout=30,
        )
        report["sendgrid_event"] = events[0]
        report["after_sendgrid"] = loaded()

        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = "a@example.com", f"in@{PARSE_HOST}", "parse"
        mail.set_content("inbound")
        with smtplib.SMTP(running.smtp_host, running.smtp_port) as smtp:
            smtp.send_message(mail)
        posts = eventually(lambda: [r for r in receiver.accepted if r.path == "/parse"], timeout=30)
        report["parse_post"] = posts[0].body.decode(errors="replace")
        report["after_inbound"] = loaded()
    running.stop()
    return report


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))
