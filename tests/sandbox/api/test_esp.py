"""``GET /api/v1/message/{ID}/esp``, the ``category:`` / ``var:`` search operators and ``msg.esp``:
a test can assert "my app tagged this email ``welcome``" whether it sent through SendGrid or
Mailgun, and Mailpit's message JSON keeps its exact key set."""

from __future__ import annotations

import httpx
import pytest

from mailsandbox.client import Client
from mailsandbox.client.fixture import SandboxInbox
from mailsandbox.runner import RunningSandbox
from tests.sandbox.api.helpers import MESSAGE_KEYS, send

DOMAIN = "mg.example.com"


def sendgrid_send(api: httpx.Client, key: str = "SG.esp") -> None:
    body = {
        "personalizations": [
            {"to": [{"email": "ann@example.com"}], "custom_args": {"user": "ann", "n": "1"}},
            {"to": [{"email": "bob@example.com"}], "custom_args": {"user": "bob"}},
        ],
        "from": {"email": "shop@example.com"},
        "subject": "Welcome",
        "content": [{"type": "text/plain", "value": "Hi"}],
        "categories": ["welcome", "Onboarding"],
        "custom_args": {"campaign": "spring"},
        "asm": {"group_id": 42},
        "batch_id": "BATCH1",
        "send_at": 1,
    }
    response = api.post("/v3/mail/send", json=body, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 202, response.text


def mailgun_send(api: httpx.Client) -> str:
    data = {
        "from": f"shop@{DOMAIN}",
        "to": ["carol@example.com", "dave@example.com"],
        "subject": "Your order",
        "text": "Order %recipient.order%",
        "o:tag": ["orders", "welcome"],
        "v:order": "%recipient.order%",
        "v:source": "web",
        "o:testmode": "yes",
        "recipient-variables": '{"carol@example.com": {"order": "7"}, "dave@example.com": {}}',
    }
    response = api.post(f"/v3/{DOMAIN}/messages", data=data, auth=("api", "key-esp"))
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def search(api: httpx.Client, query: str) -> list[str]:
    response = api.get("/api/v1/search", params={"query": query})
    assert response.status_code == 200, response.text
    return sorted(a["Address"] for m in response.json()["messages"] for a in m["To"])


def esp_of(api: httpx.Client, recipient: str) -> dict[str, object]:
    response = api.get("/api/v1/message/latest/esp", params={"query": f"to:{recipient}"})
    assert response.status_code == 200, response.text
    data: dict[str, object] = response.json()
    return data


def test_esp_document_of_each_provider(api: httpx.Client) -> None:
    sendgrid_send(api)
    mailgun_send(api)
    send(api, "Plain", To=[{"Email": "erin@example.com"}])

    ann = esp_of(api, "ann@example.com")
    assert list(ann) == ["ID", "Provider", "Categories", "Variables", "SendGrid", "Mailgun"]
    assert ann["Provider"] == "sendgrid" and ann["Mailgun"] is None
    assert ann["Categories"] == ["welcome", "Onboarding"]
    assert ann["Variables"] == {"campaign": "spring", "user": "ann", "n": "1"}  # per recipient
    sendgrid = ann["SendGrid"]
    assert isinstance(sendgrid, dict)
    assert (sendgrid["batch_id"], sendgrid["asm"], sendgrid["send_at"]) == (
        "BATCH1",
        {"group_id": 42},
        1,
    )
    assert esp_of(api, "bob@example.com")["Variables"] == {"campaign": "spring", "user": "bob"}

    carol = esp_of(api, "carol@example.com")
    assert carol["Provider"] == "mailgun" and carol["SendGrid"] is None
    assert carol["Categories"] == ["orders", "welcome"]
    assert carol["Variables"] == {"order": "7", "source": "web"}  # substituted per recipient
    mailgun = carol["Mailgun"]
    assert isinstance(mailgun, dict)
    assert mailgun["domain"] == DOMAIN and mailgun["testmode"] is True
    assert esp_of(api, "dave@example.com")["Variables"] == {"order": "", "source": "web"}

    plain = esp_of(api, "erin@example.com")
    assert (plain["Provider"], plain["Categories"], plain["Variables"]) == ("", [], {})
    assert (plain["SendGrid"], plain["Mailgun"]) == (None, None)

    # Mailpit's message JSON is unchanged: its exact key set, no ESP key in it
    latest = api.get("/api/v1/message/latest", params={"query": "to:carol@example.com"})
    assert list(latest.json()) == MESSAGE_KEYS


def test_esp_of_an_unknown_message_is_404(api: httpx.Client) -> None:
    assert api.get("/api/v1/message/nope/esp").status_code == 404


def test_category_and_var_search(api: httpx.Client) -> None:
    sendgrid_send(api)
    mailgun_send(api)
    send(api, "Plain", To=[{"Email": "erin@example.com"}])
    everyone = ["ann@example.com", "bob@example.com", "carol@example.com", "dave@example.com"]
    assert search(api, "category:welcome") == everyone
    assert search(api, "category:WELCOME") == everyone  # case-insensitive, as tag: is
    assert search(api, "category:orders") == ["carol@example.com", "dave@example.com"]
    assert search(api, "category:onboarding") == ["ann@example.com", "bob@example.com"]
    assert search(api, "-category:welcome") == ["erin@example.com"]
    assert search(api, "var:user=ann") == ["ann@example.com"]
    assert search(api, "var:order=7") == ["carol@example.com"]
    assert search(api, "var:campaign") == ["ann@example.com", "bob@example.com"]
    assert search(api, "var:source=web category:orders") == [
        "carol@example.com",
        "dave@example.com",
    ]
    assert search(api, "var:user=nobody") == []
    assert search(api, '"var:odd key=x"') == []  # quoted tokens are fine


@pytest.mark.parametrize("through_fixture", [False, True])
def test_client_returns_msg_esp(running: RunningSandbox, through_fixture: bool) -> None:
    """``Client.get/latest/wait_for`` and the pytest fixture's inbox fill ``msg.esp``."""
    with httpx.Client(base_url=running.url) as api:
        sendgrid_send(api, key="fixture-inbox")
    if through_fixture:
        client: Client = SandboxInbox(
            running.url, "fixture-inbox", (running.smtp_host, running.smtp_port)
        )
    else:
        client = Client(running.url)
    with client:
        msg = client.wait_for(to="ann@example.com", timeout=10)
        assert "welcome" in msg.esp.categories
        assert msg.esp.provider == "sendgrid"
        assert msg.esp.variables["user"] == "ann"
        assert msg.esp.sendgrid is not None and msg.esp.sendgrid["batch_id"] == "BATCH1"
        assert client.latest("category:welcome").esp.categories == ["welcome", "Onboarding"]
        assert client.esp(msg) == msg.esp
