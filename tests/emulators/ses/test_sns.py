"""The SNS side through boto3's ``sns`` client and a real HTTP endpoint: the confirmation
handshake (the token with ConfirmSubscription, or the SubscribeURL fetched), notifications in
SNS's envelope with its headers, signatures that verify with the certificate served at
SigningCertURL (versions 1 and 2), UnsubscribeURL, raw message delivery and Publish."""

from __future__ import annotations

import json
from typing import Any

import httpx

from mailsandbox.runner import RunningSandbox
from tests.emulators.ses.conftest import client, make_hook, simple, verify_sns
from tests.sandbox.events.receiver import Receiver
from tests.waiting import eventually


def test_subscribe_url_confirms_and_signatures_verify(
    running: RunningSandbox, sns: Any, receiver: Receiver
) -> None:
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    assert sns.create_topic(Name="alerts")["TopicArn"] == topic  # idempotent, as SNS
    pending = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=f"{receiver.url}/in")
    assert pending["SubscriptionArn"] == "pending confirmation"
    [request] = receiver.wait_for(1)
    confirmation = request.json()
    assert request.headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert request.headers["x-amz-sns-message-id"] == confirmation["MessageId"]
    assert request.headers["x-amz-sns-topic-arn"] == topic
    assert request.headers["Content-Type"] == "text/plain; charset=UTF-8"
    assert confirmation["SigningCertURL"].startswith(running.url + "/SimpleNotificationService-")
    assert verify_sns(confirmation)
    tampered = dict(confirmation, Token=confirmation["Token"][::-1])
    assert not verify_sns(tampered)
    [listed] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert listed["SubscriptionArn"] == "PendingConfirmation"
    answer = httpx.get(confirmation["SubscribeURL"])  # what a user's browser or curl does
    assert answer.status_code == 200 and "<ConfirmSubscriptionResult>" in answer.text
    [listed] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert listed["SubscriptionArn"].startswith(topic + ":")
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert attributes["SubscriptionsConfirmed"] == "1"

    sns.set_topic_attributes(TopicArn=topic, AttributeName="SignatureVersion", AttributeValue="2")
    published = sns.publish(TopicArn=topic, Message="hello ✓", Subject="Greeting")
    request = receiver.wait_for(2)[1]
    note = request.json()
    assert note["Type"] == "Notification" and note["MessageId"] == published["MessageId"]
    assert note["Message"] == "hello ✓" and note["Subject"] == "Greeting"
    assert note["SignatureVersion"] == "2" and verify_sns(note)
    assert request.headers["x-amz-sns-subscription-arn"] == listed["SubscriptionArn"]
    gone = httpx.get(note["UnsubscribeURL"])
    assert gone.status_code == 200 and "<UnsubscribeResponse" in gone.text
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    goodbye = receiver.wait_for(3)[2].json()
    assert goodbye["Type"] == "UnsubscribeConfirmation" and verify_sns(goodbye)


def test_raw_message_delivery_posts_the_record_alone(
    sesv2: Any, sns: Any, receiver: Receiver
) -> None:
    hook = make_hook(sesv2, sns, receiver, types=["SEND"])
    sns.set_subscription_attributes(
        SubscriptionArn=hook.subscription_arn,
        AttributeName="RawMessageDelivery",
        AttributeValue="true",
    )
    attributes = sns.get_subscription_attributes(SubscriptionArn=hook.subscription_arn)
    assert attributes["Attributes"]["RawMessageDelivery"] == "true"
    ses_id = sesv2.send_email(
        FromEmailAddress="shop@example.com",
        Destination={"ToAddresses": ["ann@example.com"]},
        ConfigurationSetName="tracked",
        Content=simple(),
    )["MessageId"]
    request = receiver.wait_for(2)[1]
    record = json.loads(request.body)
    assert record["eventType"] == "Send" and record["mail"]["messageId"] == ses_id
    assert request.headers["x-amz-sns-rawdelivery"] == "true"


def test_failed_posts_are_retried_with_their_message_id(
    sandbox_factory: Any, receiver: Receiver
) -> None:
    running = sandbox_factory(webhook_retry_schedule="0.1s")
    sns = client(running, "sns")
    receiver.status = 503
    topic = sns.create_topic(Name="down")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=f"{receiver.url}/down")
    receiver.wait_for(3, accepted=False)
    receiver.status = 200
    found = receiver.wait_for(1)
    assert {r.json()["MessageId"] for r in receiver.requests} == {found[0].json()["MessageId"]}

    def logged() -> list[dict[str, Any]]:
        deliveries = httpx.get(f"{running.url}/api/v1/webhooks/deliveries").json()["deliveries"]
        assert deliveries and {d["State"] for d in deliveries} == {"delivered"}, deliveries
        return list(deliveries)

    assert len(eventually(logged)) >= 4
