"""Every SES event type, published through a configuration set to a confirmed SNS subscription
of a real HTTP endpoint: the records' shape, signatures that verify, the account-level
suppression list fed by hard bounces and complaints (later sends answered as SES does), the
mailbox simulator's addresses, and template rendering failures."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from mailsandbox.runner import RunningSandbox
from tests.emulators.ses.conftest import REGION, Hook, by_ses_id, make_hook, verify_sns
from tests.emulators.stored import listed

MAGIC = [
    "ok@example.com",
    "alice+bounce@example.com",
    "bob+open@example.com",
    "carol+click@example.com",
    "dave+complaint@example.com",
    "erin+unsubscribe@example.com",
    "frank@slow.example.com",
    "gina+reject@example.com",
]


def send(sesv2: Any, to: list[str], **extra: Any) -> str:
    content = extra.pop("content", None) or {
        "Simple": {
            "Subject": {"Data": "Events"},
            "Body": {"Html": {"Data": '<p><a href="https://example.com/x">x</a></p>'}},
        }
    }
    return str(
        sesv2.send_email(
            FromEmailAddress="Shop <shop@example.com>",
            Destination={"ToAddresses": to},
            ConfigurationSetName="tracked",
            Content=content,
            **extra,
        )["MessageId"]
    )


def test_every_event_type_and_suppression(
    running: RunningSandbox, api: httpx.Client, sesv2: Any, hook: Hook
) -> None:
    rule = {"recipient": "*@slow.example.com", "outcome": "deferred", "attempts": 1}
    assert api.post("/api/v1/rules", json=rule).status_code == 200
    lists = {"ContactListName": "newsletter", "TopicName": "weekly"}
    first = send(
        sesv2,
        MAGIC,
        EmailTags=[{"Name": "campaign", "Value": "launch"}],
        ListManagementOptions=lists,
    )
    expected = ["Send"] + ["Delivery"] * 6 + ["Bounce", "Open", "Open", "Click", "Complaint"]
    records = hook.wait_types(first, [*expected, "Subscription", "DeliveryDelay", "Reject"])
    for _, envelope, record in hook.notifications():
        assert envelope["TopicArn"] == hook.topic_arn and verify_sns(envelope)
        mail = record["mail"]
        assert mail["destination"] == MAGIC and mail["source"] == "Shop <shop@example.com>"
        assert mail["tags"]["campaign"] == ["launch"]
        assert mail["tags"]["ses:configuration-set"] == ["tracked"]
        assert mail["commonHeaders"]["subject"] == "Events"
    by_type = {r["eventType"]: r for r in records}
    bounce = by_type["Bounce"]["bounce"]
    assert (bounce["bounceType"], bounce["bounceSubType"]) == ("Permanent", "General")
    assert bounce["bouncedRecipients"][0]["emailAddress"] == "alice+bounce@example.com"
    assert bounce["bouncedRecipients"][0]["status"] == "5.1.1"
    complaint = by_type["Complaint"]["complaint"]
    assert complaint["complainedRecipients"] == [{"emailAddress": "dave+complaint@example.com"}]
    assert complaint["complaintFeedbackType"] == "abuse"
    assert by_type["Click"]["click"]["link"].startswith("https://")
    assert by_type["Reject"]["reject"] == {"reason": "Bad content"}
    delay = by_type["DeliveryDelay"]["deliveryDelay"]
    assert delay["delayedRecipients"][0]["emailAddress"] == "frank@slow.example.com"
    subscription = by_type["Subscription"]["subscription"]
    assert subscription["contactList"] == "newsletter"
    assert subscription["newTopicPreferences"]["topicSubscriptionStatus"] == [
        {"topicName": "weekly", "subscriptionStatus": "OptOut"}
    ]
    delivered = sorted(r["delivery"]["recipients"][0] for r in records if "delivery" in r)
    assert "alice+bounce@example.com" not in delivered and len(delivered) == 6

    suppressed = sesv2.get_suppressed_destination(EmailAddress="alice+bounce@example.com")
    assert suppressed["SuppressedDestination"]["Reason"] == "BOUNCE"
    assert suppressed["SuppressedDestination"]["Attributes"]["MessageId"] == first
    listed = sesv2.list_suppressed_destinations()["SuppressedDestinationSummaries"]
    assert {(s["EmailAddress"], s["Reason"]) for s in listed} == {
        ("alice+bounce@example.com", "BOUNCE"),
        ("dave+complaint@example.com", "COMPLAINT"),
    }
    second = send(sesv2, ["alice+bounce@example.com", "dave+complaint@example.com"])
    later = hook.wait_types(second, ["Send", "Bounce", "Complaint"])
    kinds = {r["eventType"]: r for r in later}
    assert kinds["Bounce"]["bounce"]["bounceSubType"] == "OnAccountSuppressionList"
    assert kinds["Complaint"]["complaint"]["complaintSubType"] == "OnAccountSuppressionList"
    events = api.get(f"/api/v1/message/{by_ses_id(running, api, second).id}/events").json()
    assert Counter(e["Type"] for e in events["events"]) == {"queued": 2, "rejected": 2}

    sesv2.delete_suppressed_destination(EmailAddress="alice+bounce@example.com")
    with pytest.raises(ClientError):
        sesv2.get_suppressed_destination(EmailAddress="alice+bounce@example.com")
    sesv2.put_suppressed_destination(EmailAddress="manual@example.com", Reason="COMPLAINT")
    assert (
        sesv2.get_suppressed_destination(EmailAddress="manual@example.com")[
            "SuppressedDestination"
        ]["Reason"]
        == "COMPLAINT"
    )


def test_mailbox_simulator(api: httpx.Client, sesv2: Any, hook: Hook) -> None:
    names = ["success", "bounce", "ooto", "complaint", "suppressionlist"]
    to = [f"{n}@simulator.amazonses.com" for n in names]
    ses_id = send(sesv2, to)
    records = hook.wait_types(
        ses_id, ["Send", "Delivery", "Delivery", "Delivery", "Bounce", "Bounce", "Complaint"]
    )
    bounces = {
        r["bounce"]["bouncedRecipients"][0]["emailAddress"]: r["bounce"]["bounceSubType"]
        for r in records
        if r["eventType"] == "Bounce"
    }
    assert bounces == {
        "bounce@simulator.amazonses.com": "General",
        "suppressionlist@simulator.amazonses.com": "Suppressed",
    }
    delivered = {r["delivery"]["recipients"][0] for r in records if r["eventType"] == "Delivery"}
    assert delivered == {f"{n}@simulator.amazonses.com" for n in ("success", "ooto", "complaint")}
    # AWS: the simulator's addresses are never put on the suppression list
    assert sesv2.list_suppressed_destinations()["SuppressedDestinationSummaries"] == []
    # ooto@ answers with an automatic reply (RFC 3834) to the sender
    replies = [m for m in listed(api) if m["From"]["Address"] == "ooto@simulator.amazonses.com"]
    [reply] = replies
    assert reply["To"] == [{"Name": "", "Address": "shop@example.com"}]
    headers = api.get(f"/api/v1/message/{reply['ID']}/headers").json()
    assert headers["Auto-Submitted"] == ["auto-replied"]
    assert headers["In-Reply-To"] == [f"<{ses_id}@{REGION}.amazonses.com>"]


def test_rendering_failure_is_accepted_then_not_sent(
    running: RunningSandbox, api: httpx.Client, sesv2: Any, hook: Hook
) -> None:
    sesv2.create_email_template(
        TemplateName="needs-name", TemplateContent={"Subject": "Hi {{name}}", "Text": "x"}
    )
    content = {"Template": {"TemplateName": "needs-name", "TemplateData": '{"other": 1}'}}
    ses_id = send(sesv2, ["ann@example.com"], content=content)
    records = hook.wait_types(ses_id, ["Send", "Rendering Failure"])
    failure = next(r for r in records if r["eventType"] == "Rendering Failure")["failure"]
    assert failure == {
        "errorMessage": "Attribute 'name' is not present in the rendering data.",
        "templateName": "needs-name",
    }
    stored_message = by_ses_id(running, api, ses_id)
    events = api.get(f"/api/v1/message/{stored_message.id}/events").json()["events"]
    assert [e["Type"] for e in events] == ["queued", "rejected"]


def test_only_matching_types_reach_a_destination(sesv2: Any, sns: Any, receiver: Any) -> None:
    hook = make_hook(sesv2, sns, receiver, config_set="bounces-only", types=["BOUNCE"])
    ses_id = str(
        sesv2.send_email(
            FromEmailAddress="shop@example.com",
            Destination={"ToAddresses": ["a@example.com", "b+bounce@example.com"]},
            ConfigurationSetName="bounces-only",
            Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}},
        )["MessageId"]
    )
    hook.wait_types(ses_id, ["Bounce"])
