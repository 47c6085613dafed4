"""The providers' event and inbound sides are imported at their first use, not at start-up
(issue 19, idle RSS: ~2 MiB of a sandbox that never sends through most providers;
``emulators/common/lazy_hooks.py``). In a fresh interpreter: a sandbox that is ready has
imported none of the modules that format events, sign webhooks, route inbound mail or store
templates; a SendGrid send imports SendGrid's event side (and no other provider's) and its
webhook arrives as before; the first inbound mail imports the inbound routers and the Inbound
Parse POST arrives as before."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.sandbox.serve_process import clean_env

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "mailsandbox.emulators."
STEPS = ("ready", "routes_only", "after_sendgrid", "after_inbound")  # lazy_child's
EVENT_SIDES = {f"{p}.event_webhooks" for p in ("sendgrid", "mailgun", "ses", "postmark", "resend")}
HEAVY = EVENT_SIDES | {
    "sendgrid.event_format",
    "sendgrid.template_store",
    "sendgrid.inbound_parse",
    "mailgun.event_format",
    "mailgun.template_store",
    "mailgun.route_delivery",
    "ses.event_format",
    "ses.sending",
    "ses.sns_api",
    "ses.template_store",
    "postmark.event_format",
    "postmark.templates",
    "postmark.streams",
    "resend.event_format",
    "resend.account_api",
    "resend.webhooks_api",
}


def test_provider_modules_wait_for_their_first_message(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.emulators.lazy_child", str(tmp_path)],
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    steps = {step: {m.removeprefix(PREFIX) for m in report[step]} for step in STEPS}

    assert steps["ready"] & HEAVY == set()
    assert steps["ready"] >= {"sendgrid", "mailgun", "ses", "postmark", "resend"}
    assert steps["routes_only"] & {"sendgrid.event_webhooks", "sendgrid.inbound_parse"} == set()

    assert report["sendgrid_event"]["event"] == "delivered"
    assert report["sendgrid_event"]["email"] == "to@example.com"
    assert report["sendgrid_event"]["sg_event_id"]
    assert steps["after_sendgrid"] >= {"sendgrid.event_webhooks", "sendgrid.event_format"}
    assert steps["after_sendgrid"] & EVENT_SIDES == {"sendgrid.event_webhooks"}

    assert 'name="to"' in report["parse_post"] and "in@parse.example.com" in report["parse_post"]
    assert steps["after_inbound"] >= {"sendgrid.inbound_parse", "mailgun.route_delivery"}
