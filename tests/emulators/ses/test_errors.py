"""Every kind of refusal the SES and SNS emulation gives, as the SDKs see it: the ClientError
code boto3 raises (from the v2 ``x-amzn-ErrorType`` header, or the Query ``<ErrorResponse>``),
the HTTP status, and that nothing was stored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from mailsandbox.runner import RunningSandbox
from tests.emulators.ses.conftest import KEY_ID, client, simple
from tests.emulators.stored import listed


def error(call: Callable[[], Any]) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def send_v2(sesv2: Any, **overrides: Any) -> Callable[[], Any]:
    params: dict[str, Any] = {
        "FromEmailAddress": "shop@example.com",
        "Destination": {"ToAddresses": ["ann@example.com"]},
        "Content": simple(),
    }
    params.update(overrides)
    return lambda: sesv2.send_email(**params)


def send_v1(ses: Any, **overrides: Any) -> Callable[[], Any]:
    params: dict[str, Any] = {
        "Source": "shop@example.com",
        "Destination": {"ToAddresses": ["ann@example.com"]},
        "Message": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}},
    }
    params.update(overrides)
    return lambda: ses.send_email(**params)


def test_v2_send_errors(api: httpx.Client, sesv2: Any) -> None:
    unverified = error(send_v2(sesv2, FromEmailAddress="me@unverified.invalid"))
    assert unverified[:2] == ("MessageRejected", 400)
    assert "Email address is not verified" in unverified[2] and "EU-WEST-1" in unverified[2]
    bad = send_v2(sesv2, Destination={"ToAddresses": ["nobody"]})
    assert error(bad) == ("BadRequestException", 400, "Missing final '@domain'")
    many = send_v2(sesv2, Destination={"ToAddresses": [f"r{i}@example.com" for i in range(51)]})
    assert error(many)[:2] == ("BadRequestException", 400)
    no_body = send_v2(sesv2, Content={"Simple": {"Subject": {"Data": "s"}, "Body": {}}})
    assert error(no_body)[:2] == ("BadRequestException", 400)
    bad_tag = send_v2(sesv2, EmailTags=[{"Name": "has space", "Value": "v"}])
    assert error(bad_tag)[:2] == ("BadRequestException", 400)
    missing_set = error(send_v2(sesv2, ConfigurationSetName="nope"))
    assert missing_set == ("NotFoundException", 404, "Configuration set <nope> does not exist.")
    missing_template = send_v2(
        sesv2, Content={"Template": {"TemplateName": "ghost", "TemplateData": "{}"}}
    )
    assert error(missing_template) == ("NotFoundException", 404, "Template ghost does not exist.")
    bad_data = send_v2(
        sesv2,
        Content={"Template": {"TemplateContent": {"Subject": "x"}, "TemplateData": "[1]"}},
    )
    assert error(bad_data)[:2] == ("BadRequestException", 400)
    assert listed(api) == []


def test_v1_send_errors(api: httpx.Client, ses: Any) -> None:
    assert error(send_v1(ses, Source="me@x.invalid"))[:2] == ("MessageRejected", 400)
    bad = send_v1(ses, Destination={"ToAddresses": ["a@b@"]})
    assert error(bad)[:2] == ("InvalidParameterValue", 400)
    assert error(send_v1(ses, ConfigurationSetName="nope"))[:2] == (
        "ConfigurationSetDoesNotExist",
        400,
    )
    templated = lambda: ses.send_templated_email(  # noqa: E731
        Source="shop@example.com",
        Destination={"ToAddresses": ["a@example.com"]},
        Template="ghost",
        TemplateData="{}",
    )
    assert error(templated)[:2] == ("TemplateDoesNotExist", 400)
    assert error(lambda: ses.send_raw_email(RawMessage={"Data": b"Subject: no one\r\n\r\nx"}))[
        :2
    ] == ("InvalidParameterValue", 400)
    assert listed(api) == []


def test_paused_sending(api: httpx.Client, sesv2: Any, ses: Any) -> None:
    sesv2.create_configuration_set(
        ConfigurationSetName="paused", SendingOptions={"SendingEnabled": False}
    )
    assert error(send_v2(sesv2, ConfigurationSetName="paused"))[:2] == (
        "SendingPausedException",
        400,
    )
    assert error(send_v1(ses, ConfigurationSetName="paused"))[0] == (
        "ConfigurationSetSendingPausedException"
    )
    ses.update_account_sending_enabled(Enabled=False)
    assert ses.get_account_sending_enabled()["Enabled"] is False
    assert sesv2.get_account()["SendingEnabled"] is False
    assert error(send_v2(sesv2))[0] == "SendingPausedException"
    assert error(send_v1(ses))[0] == "AccountSendingPausedException"
    sesv2.put_account_sending_attributes(SendingEnabled=True)
    send_v2(sesv2)()
    assert len(listed(api)) == 1


def test_resource_errors(sesv2: Any, ses: Any, sns: Any) -> None:
    sesv2.create_email_template(TemplateName="t", TemplateContent={"Subject": "s"})
    create_again = lambda: sesv2.create_email_template(  # noqa: E731
        TemplateName="t", TemplateContent={"Subject": "s"}
    )
    assert error(create_again)[:2] == ("AlreadyExistsException", 400)
    assert error(lambda: ses.create_template(Template={"TemplateName": "t"}))[0] == "AlreadyExists"
    assert error(lambda: sesv2.delete_email_template(TemplateName="ghost"))[:2] == (
        "NotFoundException",
        404,
    )
    assert error(lambda: sesv2.get_configuration_set(ConfigurationSetName="ghost"))[0] == (
        "NotFoundException"
    )
    assert (
        error(lambda: ses.describe_configuration_set(ConfigurationSetName="ghost"))[0]
        == "ConfigurationSetDoesNotExist"
    )
    assert error(lambda: sesv2.get_suppressed_destination(EmailAddress="x@example.com"))[:2] == (
        "NotFoundException",
        404,
    )
    assert (
        error(
            lambda: sesv2.put_suppressed_destination(EmailAddress="x@example.com", Reason="SPAM")
        )[0]
        == "BadRequestException"
    )
    ghost = "arn:aws:sns:eu-west-1:123456789012:ghost"
    assert error(lambda: sns.get_topic_attributes(TopicArn=ghost))[:2] == ("NotFound", 404)
    assert error(lambda: sns.create_topic(Name="bad name!"))[:2] == ("InvalidParameter", 400)
    assert (
        error(lambda: sns.subscribe(TopicArn=ghost, Protocol="http", Endpoint="http://x"))[0]
        == "NotFound"
    )
    topic = sns.create_topic(Name="real")["TopicArn"]
    bad_endpoint = lambda: sns.subscribe(  # noqa: E731
        TopicArn=topic, Protocol="https", Endpoint="http://not-https.example"
    )
    assert error(bad_endpoint)[0] == "InvalidParameter"
    assert error(lambda: sns.confirm_subscription(TopicArn=topic, Token="nope"))[0] == (
        "InvalidParameter"
    )


def test_access_keys_enforced_in_each_protocols_shape(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    running = sandbox_factory(ses_access_key=[KEY_ID])
    good, bad = client(running, "sesv2"), client(running, "sesv2", key="AKIAWRONG")
    send_v2(good)()
    assert error(send_v2(bad)) == (
        "UnrecognizedClientException",
        403,
        "The security token included in the request is invalid.",
    )
    assert error(send_v1(client(running, "ses", key="AKIAWRONG")))[:2] == (
        "InvalidClientTokenId",
        403,
    )
    assert error(lambda: client(running, "sns", key="AKIAWRONG").list_topics())[:2] == (
        "InvalidClientTokenId",
        403,
    )


def test_unsigned_and_unknown_requests(running: RunningSandbox, ses: Any) -> None:
    unsigned = httpx.post(f"{running.url}/", data={"Action": "SendEmail"})
    assert unsigned.status_code == 403
    assert "<Code>MissingAuthenticationToken</Code>" in unsigned.text
    assert 'xmlns="http://ses.amazonaws.com/doc/2010-12-01/"' in unsigned.text
    v2 = httpx.post(f"{running.url}/v2/email/outbound-emails", json={})
    assert v2.status_code == 403
    assert v2.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    with pytest.raises(ClientError) as caught:
        ses.list_receipt_rule_sets()
    assert caught.value.response["Error"]["Code"] == "InvalidAction"
    headers = {
        "Authorization": f"AWS4-HMAC-SHA256 Credential={KEY_ID}/20240101/eu-west-1/ses/aws4_request"
    }
    unknown = httpx.get(f"{running.url}/v2/email/dedicated-ips", headers=headers)
    assert unknown.status_code == 404
    assert unknown.headers["x-amzn-ErrorType"] == "UnknownOperationException"
    broken = httpx.post(
        f"{running.url}/v2/email/outbound-emails", content=b"{nope", headers=headers
    )
    assert broken.status_code == 400 and broken.headers["x-amzn-ErrorType"] == "BadRequestException"
