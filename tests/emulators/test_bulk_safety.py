"""ESP bulk deletes never clear a list for a malformed request (issue 14), and any JSON body,
however nested, is a 400 in the provider's own error shape, never a 500."""

from __future__ import annotations

import httpx
import pytest

from tests.emulators.mailgun.conftest import DOMAIN

SENDGRID_BAD_REQUEST = {"errors": [{"message": "Bad Request", "field": None, "help": None}]}
DEEP = b"[" * 100_000 + b"]" * 100_000  # RecursionError in json.loads
DEEP_FIELD = "[" * 5000 + "]" * 5000  # the same, inside Mailgun's 16 KB limit on h: fields
NESTED_65 = b'{"a":' * 65 + b"1" + b"}" * 65  # decodes, but deeper than any real body
SEED = ["a@example.com", "b@example.com"]


def _bounces(api: httpx.Client) -> list[str]:
    return sorted(e["email"] for e in api.get("/v3/suppression/bounces").json())


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{bad", 400),
        (b"null", 400),
        (b'["x"]', 400),
        (b'{"emails": "x"}', 400),
        (b'{"emails": [1]}', 400),
        (b'{"delete_all": "true"}', 400),
        (b'{"delete_all": false}', 400),
        (b'{"delete_all": true, "emails": ["a@example.com"]}', 400),
        (b'{"delete_all": true, "x": "\xff"}', 400),
        (b"", 400),
        (DEEP, 400),
        (b'{"delete_all": true, "pad": "' + b"x" * (30 * 1024 * 1024) + b'"}', 413),
    ],
    ids=["malformed", "null", "list", "emails-string", "emails-numbers", "delete_all-string",
         "delete_all-false", "both", "invalid-utf8", "empty", "deep", "over-limit"],
)  # fmt: skip
def test_sendgrid_bulk_delete_with_a_bad_body_deletes_nothing(
    api: httpx.Client, body: bytes, status: int
) -> None:
    assert api.post("/v3/suppression/bounces", json={"emails": SEED}).status_code == 201
    response = api.request(
        "DELETE",
        "/v3/suppression/bounces",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == status, response.text
    assert list(response.json()) == ["errors"]
    assert _bounces(api) == SEED


def test_sendgrid_bulk_delete_by_emails_and_all(api: httpx.Client) -> None:
    api.post("/v3/suppression/bounces", json={"emails": SEED})
    one = api.request("DELETE", "/v3/suppression/bounces", json={"emails": ["a@example.com"]})
    assert one.status_code == 204
    assert _bounces(api) == ["b@example.com"]
    every = api.request("DELETE", "/v3/suppression/bounces", json={"delete_all": True})
    assert every.status_code == 204
    assert _bounces(api) == []


@pytest.mark.parametrize("body", [DEEP, NESTED_65])
@pytest.mark.parametrize(
    "path", ["/v3/mail/send", "/v3/templates", "/v3/user/webhooks/event/settings"]
)
def test_sendgrid_deep_json_is_a_bad_request(api: httpx.Client, path: str, body: bytes) -> None:
    method = "PATCH" if path.endswith("settings") else "POST"
    response = api.request(method, path, content=body, headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()) == (400, SENDGRID_BAD_REQUEST)


def _mailgun_bounces(api: httpx.Client) -> list[str]:
    items = api.get(f"/v3/{DOMAIN}/bounces", auth=("api", "key-x")).json()["items"]
    return sorted(i["address"] for i in items)


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("DELETE", f"/v3/{DOMAIN}/bounces/", {}),
        ("DELETE", f"/v3/{DOMAIN}/bounces?address=a@example.com", {}),
        ("DELETE", f"/v3/{DOMAIN}/bounces", {"data": {"address": "a@example.com"}}),
    ],
    ids=["empty-address", "address-in-query", "address-in-form"],
)
def test_mailgun_clear_refuses_a_request_that_names_an_address(
    api: httpx.Client, method: str, path: str, kwargs: dict[str, object]
) -> None:
    for address in SEED:
        api.post(f"/v3/{DOMAIN}/bounces", data={"address": address}, auth=("api", "key-x"))
    response = api.request(method, path, auth=("api", "key-x"), follow_redirects=True, **kwargs)  # type: ignore[arg-type]
    assert response.status_code in (400, 404)
    assert list(response.json()) == ["message"]
    assert _mailgun_bounces(api) == SEED
    cleared = api.delete(f"/v3/{DOMAIN}/bounces", auth=("api", "key-x"))
    assert cleared.json() == {"message": "Bounced addresses for this domain have been removed"}
    assert _mailgun_bounces(api) == []


@pytest.mark.parametrize("field", ["recipient-variables", "h:X-Mailgun-Variables"])
@pytest.mark.parametrize("value", [DEEP_FIELD, NESTED_65.decode()])
def test_mailgun_deep_json_field_is_a_bad_request(
    api: httpx.Client, field: str, value: str
) -> None:
    response = api.post(
        f"/v3/{DOMAIN}/messages",
        auth=("api", "key-x"),
        data={
            "from": "a@example.com",
            "to": "b@example.com",
            "subject": "s",
            "text": "t",
            field: value,
        },
    )
    assert response.status_code == 400
    assert list(response.json()) == ["message"]
    assert "not a valid JSON" in response.json()["message"]


def test_mailgun_deep_json_body_is_a_bad_request(api: httpx.Client) -> None:
    response = api.post(
        f"/v3/{DOMAIN}/bounces",
        auth=("api", "key-x"),
        content=DEEP,
        headers={"Content-Type": "application/json"},
    )
    assert (response.status_code, response.json()) == (400, {"message": "Invalid JSON body"})


@pytest.mark.parametrize("body", [DEEP, NESTED_65])
@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/v1/send"), ("PUT", "/api/v1/messages"), ("PUT", "/api/v1/tags")],
)
def test_rest_deep_json_is_a_bad_request(
    api: httpx.Client, method: str, path: str, body: bytes
) -> None:
    response = api.request(method, path, content=body)
    assert response.status_code == 400
    assert list(response.json()) == ["Error"]
