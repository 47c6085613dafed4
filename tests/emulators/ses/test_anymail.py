"""PROOF against django-anymail's Amazon SES backend (SES v2 through boto3) and its SES tracking
webhook view, served by a real Django server: the view gets the SNS SubscriptionConfirmation
and confirms it itself through boto3's ``sns.confirm_subscription`` (WEBHOOK_SECRET set, Basic
auth from the endpoint URL), then parses every event type SES publishes into
``anymail.signals.tracking`` events with the tags and metadata the backend sent."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from anymail.message import AnymailMessage
from django.core.mail import get_connection
from django.test import override_settings

from mailsandbox.runner import RunningSandbox
from tests.emulators.anymail_tracking import Tracked, complete, send_with
from tests.emulators.ses.conftest import ALL_EVENTS, KEY_ID, REGION
from tests.emulators.stored import listed, raw_message
from tests.waiting import eventually

pytestmark = pytest.mark.filterwarnings("ignore::Warning")
SECRET = "hook:s3cret"
RECIPIENTS = {  # one message each (SES reports opens and clicks for every recipient)
    "ok@example.com": ["sent", "delivered"],
    "alice+bounce@example.com": ["sent", "bounced"],
    "bob+open@example.com": ["sent", "delivered", "opened"],
    "carol+click@example.com": ["sent", "delivered", "opened", "clicked"],
    "dave+complaint@example.com": ["sent", "delivered", "complained"],
    "erin+unsubscribe@example.com": ["sent", "delivered", "unknown"],
    "frank@slow.example.com": ["sent", "unknown", "delivered"],
    "gina+reject@example.com": ["sent", "rejected"],
}


def anymail_settings(running: RunningSandbox) -> dict[str, Any]:
    return {
        "AMAZON_SES_CLIENT_PARAMS": {
            "endpoint_url": running.url,
            "region_name": REGION,
            "aws_access_key_id": KEY_ID,
            "aws_secret_access_key": "not-checked",
        },
        "AMAZON_SES_CONFIGURATION_SET_NAME": "anymail",
        "WEBHOOK_SECRET": SECRET,
    }


def subscribe_anymail(running: RunningSandbox, django_url: str, sesv2: Any, sns: Any) -> str:
    """What a user sets up once: topic, subscription to anymail's view, configuration set."""
    topic = sns.create_topic(Name="anymail-events")["TopicArn"]
    url = django_url.replace("http://", f"http://{SECRET}@") + "/anymail/amazon_ses/tracking/"
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url)

    def confirmed() -> str:  # anymail's view confirmed it through boto3
        [sub] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        assert sub["SubscriptionArn"] != "PendingConfirmation", sub
        return str(sub["SubscriptionArn"])

    eventually(confirmed)
    sesv2.create_configuration_set(ConfigurationSetName="anymail")
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName="anymail",
        EventDestinationName="anymail",
        EventDestination={
            "Enabled": True,
            "MatchingEventTypes": ALL_EVENTS,
            "SnsDestination": {"TopicArn": topic},
        },
    )
    return topic


def send(to: str, **attrs: Any) -> str:
    message = send_with("anymail.backends.amazon_ses.EmailBackend", [to], **attrs)
    status = message.anymail_status
    assert status.status == {"queued"}, status.esp_response
    return str(status.message_id)


def test_tracking_through_anymail(
    running: RunningSandbox,
    api: httpx.Client,
    django_url: str,
    tracked: Tracked,
    sesv2: Any,
    sns: Any,
) -> None:
    rule = {"recipient": "*@slow.example.com", "outcome": "deferred", "attempts": 1}
    assert api.post("/api/v1/rules", json=rule).status_code == 200
    with override_settings(ANYMAIL=anymail_settings(running)):
        subscribe_anymail(running, django_url, sesv2, sns)
        sent = {to: send(to) for to in RECIPIENTS}
        for to, types in RECIPIENTS.items():
            tracked.wait(complete(sent[to], {to: types}), timeout=20)
        again = send("alice+bounce@example.com")
        found = tracked.wait(complete(again, {"alice+bounce@example.com": ["sent", "bounced"]}))
    events = {(e.message_id, e.recipient, e.event_type): e for e in found}
    for event in found:
        assert event.tags == ["welcome"] and event.metadata == {"order": "42"}
        assert event.esp_event["mail"]["messageId"] == event.message_id
    bounce = events[(sent["alice+bounce@example.com"], "alice+bounce@example.com", "bounced")]
    assert bounce.description == "Permanent: General" and "5.1.1" in (bounce.mta_response or "")
    suppressed = events[(again, "alice+bounce@example.com", "bounced")]
    assert suppressed.description == "Permanent: OnAccountSuppressionList"
    click = events[(sent["carol+click@example.com"], "carol+click@example.com", "clicked")]
    assert click.click_url and click.user_agent
    assert events[(sent["gina+reject@example.com"], "gina+reject@example.com", "rejected")]
    assert len({e.event_id for e in found}) == len(found)  # one SNS MessageId per notification


def test_backend_sends_attachments_and_templates(
    running: RunningSandbox, api: httpx.Client, sesv2: Any
) -> None:
    sesv2.create_email_template(
        TemplateName="hello",
        TemplateContent={"Subject": "Hello {{name}}", "Text": "Order {{order}} for {{name}}"},
    )
    settings = anymail_settings(running)
    del settings["AMAZON_SES_CONFIGURATION_SET_NAME"]
    with override_settings(ANYMAIL=settings):
        plain_id = send("ann@example.com")
        message = AnymailMessage(
            to=["bob@example.com", "cy@example.com"], from_email="shop@example.com",
            connection=get_connection("anymail.backends.amazon_ses.EmailBackend"),
        )  # fmt: skip
        message.template_id = "hello"
        message.merge_data = {"bob@example.com": {"name": "Bob"}, "cy@example.com": {"name": "Cy"}}
        message.merge_global_data = {"order": "7"}
        message.send()
        statuses = message.anymail_status.recipients
    assert {r.status for r in statuses.values()} == {"queued"}
    first, *templated = listed(api)
    assert first["Subject"] == "Welcome"
    parsed = raw_message(api, first["ID"])
    assert parsed["X-Tag"] == "welcome" and parsed["X-Metadata"] == '{"order": "42"}'
    assert f"<{plain_id}@" in parsed["Message-ID"]
    assert sorted(m["Subject"] for m in templated) == ["Hello Bob", "Hello Cy"]
    bob = next(m for m in templated if m["Subject"] == "Hello Bob")
    assert "Order 7 for Bob" in api.get(f"/api/v1/message/{bob['ID']}").json()["Text"]
