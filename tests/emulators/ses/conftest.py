"""Fixtures for the SES emulator tests: boto3's ``sesv2``, ``ses`` and ``sns`` clients pointed at
a running sandbox (``endpoint_url`` only, as users configure them), an SNS subscription to a
real local HTTP receiver, and helpers reading what was stored and what was POSTed."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mailsandbox.emulators.ses.config_store import EVENT_TYPES
from mailsandbox.runner import RunningSandbox
from mailsandbox.storage import messages
from mailsandbox.storage.messages import MessageSummary
from tests.emulators.stored import listed
from tests.sandbox.events.receiver import Received, Receiver
from tests.waiting import eventually

REGION = "eu-west-1"
KEY_ID = "AKIASANDBOXTEST"
ALL_EVENTS = list(EVENT_TYPES)


def client(running: RunningSandbox, service: str, key: str = KEY_ID) -> Any:
    return boto3.client(
        service,
        endpoint_url=running.url,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key="not-checked",
    )


@pytest.fixture
def sesv2(running: RunningSandbox) -> Any:
    return client(running, "sesv2")


@pytest.fixture
def ses(running: RunningSandbox) -> Any:
    return client(running, "ses")


@pytest.fixture
def sns(running: RunningSandbox) -> Any:
    return client(running, "sns")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


def by_ses_id(running: RunningSandbox, api: httpx.Client, ses_id: str) -> MessageSummary:
    """The stored message SES answered ``ses_id`` for (the storage view: metadata included)."""
    for item in listed(api):
        found = running.sandbox.db.read_sync(lambda c, i=item: messages.get_summary(c, i["ID"]))
        if found is not None and found.metadata.get("ses", {}).get("message_id") == ses_id:
            return found
    raise AssertionError(f"no stored message for SES id {ses_id}")


def verify_sns(message: dict[str, Any]) -> bool:
    """AWS's documented check: the certificate from SigningCertURL, the canonical string of
    the message's Type, SHA1 (version 1) or SHA256 (version 2) with RSA PKCS#1 v1.5."""
    pem = httpx.get(message["SigningCertURL"]).content
    key = x509.load_pem_x509_certificate(pem).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    if message["Type"] == "Notification":
        names = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        names = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    text = "".join(f"{n}\n{message[n]}\n" for n in names if n in message)
    algorithm = hashes.SHA256() if message["SignatureVersion"] == "2" else hashes.SHA1()
    try:
        key.verify(
            base64.b64decode(message["Signature"]), text.encode(), padding.PKCS1v15(), algorithm
        )
    except Exception:
        return False
    return True


@dataclass
class Hook:
    """An SNS topic whose confirmed subscription POSTs to a local receiver."""

    topic_arn: str
    subscription_arn: str
    receiver: Receiver

    def notifications(self) -> list[tuple[Received, dict[str, Any], dict[str, Any]]]:
        """(request, SNS envelope, SES record) of every notification received so far."""
        out = []
        for request in self.receiver.requests:
            envelope = request.json()
            if envelope.get("Type") == "Notification":
                out.append((request, envelope, json.loads(envelope["Message"])))
        return out

    def records(self, message_id: str) -> list[dict[str, Any]]:
        return [r for _, _, r in self.notifications() if r["mail"]["messageId"] == message_id]

    def wait_types(self, message_id: str, expected: list[str]) -> list[dict[str, Any]]:
        """Wait until the records of ``message_id`` are exactly ``expected`` (any order)."""

        def check() -> list[dict[str, Any]]:
            found = self.records(message_id)
            assert sorted(r["eventType"] for r in found) == sorted(expected), found
            return found

        return eventually(check, timeout=15)


def make_hook(
    sesv2: Any,
    sns: Any,
    receiver: Receiver,
    config_set: str = "tracked",
    types: list[str] | None = None,
) -> Hook:
    """A topic, its subscription confirmed with the token, and a configuration set that
    publishes ``types`` (all by default) to it."""
    topic = sns.create_topic(Name=f"{config_set}-events")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=f"{receiver.url}/sns")
    confirmation = receiver.wait_for(1)[-1].json()
    assert confirmation["Type"] == "SubscriptionConfirmation"
    arn = sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])["SubscriptionArn"]
    sesv2.create_configuration_set(ConfigurationSetName=config_set)
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName=config_set,
        EventDestinationName="to-sns",
        EventDestination={
            "Enabled": True,
            "MatchingEventTypes": types or ALL_EVENTS,
            "SnsDestination": {"TopicArn": topic},
        },
    )
    return Hook(topic, arn, receiver)


@pytest.fixture
def hook(sesv2: Any, sns: Any, receiver: Receiver) -> Hook:
    return make_hook(sesv2, sns, receiver)


def simple(subject: str = "Hello", text: str = "Hi there", html: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {"Text": {"Data": text}}
    if html:
        body["Html"] = {"Data": html}
    return {"Simple": {"Subject": {"Data": subject}, "Body": body}}


SendFn = Callable[..., str]
