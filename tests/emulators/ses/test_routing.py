"""One port for SES v1, SES v2 and SNS beside the UI: ``endpoint_url`` alone works for the three
boto3 clients, Query requests are routed by their SigV4 service, ``GET /`` stays the inbox, and
with ``--ui-auth`` the SES paths keep their own auth (sending needs no UI login; management
needs an access key ``--ses-access-key`` enforces), and unsigned requests from a web page change
nothing."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from mailsandbox.runner import RunningSandbox
from tests.emulators.ses.conftest import KEY_ID, client, simple


def test_one_endpoint_for_three_services_beside_the_ui(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    running = sandbox_factory(ui_auth="admin:pw", ses_access_key=[KEY_ID])
    sesv2, ses, sns = (client(running, s) for s in ("sesv2", "ses", "sns"))
    sesv2.send_email(
        FromEmailAddress="a@example.com",
        Destination={"ToAddresses": ["b@example.com"]},
        Content=simple(),
    )
    ses.create_template(Template={"TemplateName": "via-v1", "SubjectPart": "s"})
    assert sesv2.get_email_template(TemplateName="via-v1")["TemplateName"] == "via-v1"
    topic = sns.create_topic(Name="routed")["TopicArn"]
    assert [t["TopicArn"] for t in sns.list_topics()["Topics"]] == [topic]

    assert httpx.get(f"{running.url}/").status_code == 401  # the UI keeps its auth
    inbox = httpx.get(f"{running.url}/", auth=("admin", "pw"))
    assert inbox.status_code == 200 and "text/html" in inbox.headers["content-type"]
    link = httpx.get(f"{running.url}/sns?Action=ConfirmSubscription&TopicArn={topic}&Token=bad")
    assert link.status_code == 400 and "<Code>InvalidParameter</Code>" in link.text
    cert = httpx.get(running.url + running.sandbox.extensions["ses.sns_signer"].cert_path)
    assert cert.status_code == 200 and cert.text.startswith("-----BEGIN CERTIFICATE-----")

    forged = httpx.post(  # what a web page can send: no SigV4 header
        f"{running.url}/",
        data={"Action": "CreateTopic", "Name": "evil"},
        headers={"Origin": "https://evil.example"},
    )
    assert forged.status_code == 403 and "cross-origin request" in forged.text
    assert [t["TopicArn"] for t in sns.list_topics()["Topics"]] == [topic]
    api = httpx.get(f"{running.url}/api/v1/messages", auth=("admin", "pw")).json()
    assert api["total"] == 1


def test_unsigned_post_without_ui_auth_changes_nothing(running: RunningSandbox) -> None:
    form = {"Action": "CreateTopic", "Name": "t"}
    forged = httpx.post(f"{running.url}/", data=form, headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403 and "cross-origin request" in forged.text
    unsigned = httpx.post(f"{running.url}/", data=form)
    assert unsigned.status_code == 403
    assert "MissingAuthenticationToken" in unsigned.text and "sns.amazonaws.com" in unsigned.text
