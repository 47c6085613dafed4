"""Resend's refusals in its shape (``{"statusCode", "name", "message"}``), as the resend SDK
raises them; unknown paths and methods; a refused request stores nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import resend
from resend import exceptions

from mailsandbox.runner import RunningSandbox
from tests.emulators.resend.conftest import KEY, email


@pytest.fixture(scope="module")
def client(shared: RunningSandbox) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=shared.url, headers=headers, timeout=30) as http:
        yield http


REFUSED: list[tuple[dict[str, Any], int, str, str]] = [
    ({"from": None}, 422, "missing_required_field", "Missing `from` field."),
    ({"to": []}, 422, "missing_required_field", "Missing `to` field."),
    ({"subject": ""}, 422, "missing_required_field", "Missing `subject` field."),
    ({"from": "nobody"}, 422, "validation_error", "Invalid `from` field."),
    ({"to": ["ann"]}, 422, "validation_error", "Invalid `to` field."),
    ({"cc": "x@"}, 422, "validation_error", "Invalid `cc` field."),
    ({"to": [f"r{i}@example.com" for i in range(51)]}, 422, "validation_error", "Too many"),
    ({"text": None}, 422, "missing_required_field", "Missing `html` or `text` field."),
    ({"tags": [{"name": "bad tag", "value": "x"}]}, 422, "validation_error", "The `name`"),
    ({"headers": {"X-Count": 3}}, 422, "validation_error", "Invalid `headers` field."),
    ({"scheduled_at": "whenever"}, 422, "validation_error", "Invalid `scheduled_at` field."),
    ({"attachments": [{"filename": "a.txt"}]}, 422, "invalid_attachment",
     "Attachment must have either a `content` or `path`."),
    ({"attachments": [{"filename": "a.txt", "path": "http://127.0.0.1:9/x"}]}, 422,
     "invalid_attachment", "The attachment at"),
    ({"from": "me@example.invalid"}, 403, "validation_error",
     "The example.invalid domain is not verified."),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "status", "name", "text"), REFUSED)
def test_send_refusals(
    client: httpx.Client, fields: dict[str, Any], status: int, name: str, text: str
) -> None:
    response = client.post("/emails", json=email(**fields))
    body = response.json()
    assert response.status_code == status and body["statusCode"] == status, body
    assert body["name"] == name and body["message"].startswith(text), body


def test_sdk_exceptions(shared: RunningSandbox) -> None:
    saved = resend.api_url, resend.api_key
    resend.api_url, resend.api_key = shared.url, KEY
    try:
        with pytest.raises(exceptions.MissingRequiredFieldsError):
            resend.Emails.send(email(subject=""))
        with pytest.raises(exceptions.ValidationError):
            resend.Emails.send(email(to="nobody"))
        with pytest.raises(exceptions.ResendError) as unknown:
            resend.Emails.get("5c3f8a2e-1d2b-4c5d-9e6f-0a1b2c3d4e5f")
        assert unknown.value.code == 404 and unknown.value.error_type == "not_found"
    finally:
        resend.api_url, resend.api_key = saved


def test_keys_bodies_paths_methods(shared: RunningSandbox, client: httpx.Client) -> None:
    none = httpx.post(f"{shared.url}/emails", json=email())
    assert none.status_code == 401 and none.json()["name"] == "missing_api_key"
    broken = client.post("/emails", content=b"{nope", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.json()["name"] == "validation_error"
    assert client.get("/emails/not-a-uuid").json()["message"] == "The `id` must be a valid UUID."
    missing = client.get("/emails/nope/more")
    assert missing.status_code == 404 and missing.json() == {
        "statusCode": 404, "name": "not_found", "message": "The requested endpoint does not exist."
    }  # fmt: skip
    wrong = client.delete("/emails")
    assert wrong.status_code == 405 and wrong.json()["name"] == "method_not_allowed"
    assert client.post("/emails/batch", json=[email()] * 101).json()["name"] == "validation_error"
    assert client.post("/webhooks", json={"endpoint": "x"}).json()["message"].startswith("Missing")
    assert client.get("/api/v1/messages").json()["total"] == 0
