"""Every rule of the mail-send validation table, through the official SDK: a 400 whose body the
SDK parses (``BadRequestsError.to_dict``) with SendGrid's field path and message, and nothing
stored. Plus the non-400 statuses: malformed JSON, 413 and 415."""

from __future__ import annotations

import base64
import gzip
import time
from typing import Any

import httpx
import pytest
from python_http_client.exceptions import BadRequestsError
from sendgrid import SendGridAPIClient

from tests.emulators.sendgrid.helpers import listed, mail_body

TO = [{"email": "bob@example.com"}]
ATTACHMENT = {"content": base64.b64encode(b"hi").decode(), "filename": "a.txt"}


def _p(**fields: Any) -> dict[str, Any]:
    return {"personalizations": [{"to": TO, **fields}]}


# (case id, top-level overrides, expected field, expected message fragment)
CASES: list[tuple[str, dict[str, Any], str | None, str]] = [
    (
        "no personalizations",
        {"personalizations": []},
        "personalizations",
        "personalizations field is required",
    ),
    (
        "too many personalizations",
        {"personalizations": [{"to": [{"email": f"u{i}@x.com"}]} for i in range(1001)]},
        "personalizations",
        "The personalization block is limited to 1000 personalizations per API request. You "
        "have provided 1001 personalizations. Please consider splitting this into multiple "
        "requests and resending your request.",
    ),
    (
        "too many recipients",
        {"personalizations": [{"to": [{"email": f"u{i}@x.com"} for i in range(1001)]}]},
        "personalizations",
        "There is a limit of 1000 total recipients (to + cc + bcc) per request.",
    ),
    (
        "to entry without email",
        {"personalizations": [{"to": [{"name": "Bob"}]}]},
        "personalizations.0.to.0.email",
        "The to email parameter is required.",
    ),
    (
        "to email not a string",
        {"personalizations": [{"to": [{"email": ["bob@example.com"]}]}]},
        "personalizations.0.to.0.email",
        "Invalid type. Expected: string, given: array.",
    ),
    (
        "from given as a string",
        {"from": "ann@example.com"},
        "from",
        "Invalid type. Expected: object, given: string.",
    ),
    (
        "personalization without to",
        {"personalizations": [{"cc": TO}]},
        "personalizations.0.to",
        "to array is required",
    ),
    (
        "invalid to address",
        {"personalizations": [{"to": [{"email": "not-an-address"}]}]},
        "personalizations.0.to.0.email",
        "Does not contain a valid address.",
    ),
    (
        "invalid cc address",
        _p(cc=[{"email": "a@b.c"}, {"email": "bad@"}]),
        "personalizations.0.cc.1.email",
        "Does not contain a valid address.",
    ),
    (
        "address over 320 chars",
        _p(bcc=[{"email": "a" * 310 + "@example.com"}]),
        "personalizations.0.bcc.0.email",
        "Does not contain a valid address.",
    ),
    (
        "duplicate address",
        _p(cc=[{"email": "BOB@example.com"}]),
        "personalizations.0",
        "Each email address in the personalization block should be unique between to, cc, and "
        "bcc. We found the first duplicate instance of [bob@example.com] in the "
        "personalizations.0.cc field.",
    ),
    (
        "dynamic data without template",
        _p(dynamic_template_data={"name": "Bob"}),
        "template_id",
        "The template_id is required when using dynamic templates",
    ),
    ("missing from", {"from": None}, "from.email", "The from object must be provided"),
    (
        "invalid from",
        {"from": {"email": "nobody"}},
        "from.email",
        "The from email does not contain a valid address.",
    ),
    (
        "reply_to and reply_to_list",
        {"reply_to": {"email": "r@example.com"}, "reply_to_list": [{"email": "s@example.com"}]},
        "reply_to_list",
        "cannot both be set",
    ),
    (
        "invalid reply_to_list address",
        {"reply_to_list": [{"email": "x"}]},
        "reply_to_list.0.email",
        "Does not contain a valid address.",
    ),
    ("missing subject", {"subject": None}, "subject", "The subject is required"),
    ("empty subject", {"subject": ""}, "subject", "The subject is required"),
    (
        "empty personalization subject",
        {**_p(subject=""), "subject": None},
        "personalizations.0.subject",
        "at least one character",
    ),
    ("missing content", {"content": None}, "content", "the content parameter is required"),
    (
        "empty content value",
        {"content": [{"type": "text/plain", "value": ""}]},
        "content.0.value",
        "at least one character",
    ),
    (
        "html before text",
        {
            "content": [
                {"type": "text/html", "value": "<p>x</p>"},
                {"type": "text/plain", "value": "x"},
            ]
        },
        "content.1.type",
        "text/plain and text/html may only be provided in order",
    ),
    (
        "content type with semicolon",
        {"content": [{"type": "text/plain; charset=x", "value": "x"}]},
        "content.0.type",
        "cannot contain ';'",
    ),
    (
        "non-string custom arg",
        {"custom_args": {"n": 1}},
        "custom_args.n",
        "Invalid type. Expected: string, given: integer.",
    ),
    ("empty custom args", {"custom_args": {}}, "custom_args", "at least one key"),
    (
        "custom args over 10000 bytes",
        _p(custom_args={"big": "x" * 10_001}),
        "personalizations.0.custom_args",
        "less than 10000 bytes",
    ),
    ("reserved header", {"headers": {"Subject": "x"}}, "headers.Subject", "reserved headers"),
    (
        "reserved personalization header",
        _p(headers={"x-sg-id": "1"}),
        "personalizations.0.headers.x-sg-id",
        "reserved headers",
    ),
    ("non-string header", {"headers": {"X-Count": 3}}, "headers.X-Count", "Expected: string"),
    ("header name with space", {"headers": {"X Bad": "v"}}, "headers", "without spaces"),
    ("send_at not integer", {"send_at": "soon"}, "send_at", "Expected: integer, given: string."),
    ("send_at over 72h ahead", {"send_at": int(time.time()) + 73 * 3600}, "send_at", "72 hours"),
    (
        "personalization send_at over 72h",
        _p(send_at=int(time.time()) + 80 * 3600),
        "personalizations.0.send_at",
        "72 hours",
    ),
    (
        "non-string substitution",
        _p(substitutions={"-x-": 5}),
        "personalizations.0.substitutions.-x-",
        "Expected: string",
    ),
    (
        "too many substitutions",
        _p(substitutions={f"-k{i}-": "v" for i in range(10_001)}),
        "personalizations.0.substitutions",
        "at most 10000",
    ),
    (
        "more than 10 categories",
        {"categories": [f"c{i}" for i in range(11)]},
        "categories",
        "more than 10 categories",
    ),
    ("duplicate categories", {"categories": ["a", "a"]}, "categories.1", "must be unique"),
    (
        "category over 255 chars",
        {"categories": ["c" * 256]},
        "categories.0",
        "more than 255 characters",
    ),
    ("non-ASCII category", {"categories": ["café"]}, "categories.0", "ASCII"),
    (
        "attachment not base64",
        {"attachments": [{**ATTACHMENT, "content": "%%%not base64%%%"}]},
        "attachments.0.content",
        "must be base64 encoded",
    ),
    (
        "attachment without filename",
        {"attachments": [{"content": ATTACHMENT["content"]}]},
        "attachments.0.filename",
        "filename parameter is required",
    ),
    (
        "attachment bad disposition",
        {"attachments": [{**ATTACHMENT, "disposition": "sideways"}]},
        "attachments.0.disposition",
        "either 'inline' or 'attachment'",
    ),
    (
        "attachment filename with CRLF",
        {"attachments": [{**ATTACHMENT, "filename": "a\r\nb.txt"}]},
        "attachments.0.filename",
        "CRLF",
    ),
    (
        "inline attachment without content_id",
        {"attachments": [{**ATTACHMENT, "disposition": "inline"}]},
        "attachments.0.content_id",
        "content_id",
    ),
    (
        "sandbox enable not boolean",
        {"mail_settings": {"sandbox_mode": {"enable": "true"}}},
        "mail_settings.sandbox_mode.enable",
        "The sandbox mode enable param should be a boolean value.",
    ),
    (
        "footer enable not boolean",
        {"mail_settings": {"footer": {"enable": 1}}},
        "mail_settings.footer.enable",
        "footer enable param should be a boolean",
    ),
    (
        "click tracking not boolean",
        {"tracking_settings": {"click_tracking": {"enable": "yes"}}},
        "tracking_settings.click_tracking.enable",
        "click tracking enable param",
    ),
    ("batch_id not string", {"batch_id": 12}, "batch_id", "Expected: string, given: integer."),
    ("asm group_id not integer", {"asm": {"group_id": "7"}}, "asm.group_id", "must be an integer"),
    (
        "asm too many groups",
        {"asm": {"group_id": 1, "groups_to_display": list(range(26))}},
        "asm.groups_to_display",
        "at most 25",
    ),
    ("ip_pool_name too short", {"ip_pool_name": "x"}, "ip_pool_name", "between 2 and 64"),
    (
        "malformed template id",
        {"template_id": "not-a-template"},
        "template_id",
        "must be a valid GUID",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "field", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_every_rule_answers_400_with_field_and_message(
    shared_sg: SendGridAPIClient,
    shared_http: httpx.Client,
    overrides: dict[str, Any],
    field: str,
    message: str,
) -> None:
    body = {k: v for k, v in mail_body(**overrides).items() if v is not None}
    with pytest.raises(BadRequestsError) as caught:
        shared_sg.client.mail.send.post(request_body=body)
    assert caught.value.status_code == 400
    errors = caught.value.to_dict["errors"]
    assert any(e["field"] == field and message in e["message"] for e in errors), errors
    assert all(set(e) == {"message", "field", "help"} for e in errors)
    assert listed(shared_http) == []


def test_all_problems_are_reported_at_once(shared_sg: SendGridAPIClient) -> None:
    body = mail_body(subject=None, content=None, **{"from": {"email": "x"}})
    with pytest.raises(BadRequestsError) as caught:
        shared_sg.client.mail.send.post(
            request_body={k: v for k, v in body.items() if v is not None}
        )
    fields = {e["field"] for e in caught.value.to_dict["errors"]}
    assert fields == {"from.email", "subject", "content"}


def test_errors_come_in_sendgrids_order_with_its_help_anchors(
    shared_http: httpx.Client,
) -> None:
    """An empty mail-send: SendGrid's answer as quoted in sendgrid-ruby#438 (and
    rubyforgood/casa#231), with ``subject`` where it falls between personalizations and
    content."""
    response = shared_http.post("/v3/mail/send", json={"subject": "x"})
    assert response.status_code == 400
    root = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"
    assert response.json() == {
        "errors": [
            {
                "message": "The from object must be provided for every email send. It is an "
                "object that requires the email parameter, but may also contain a name "
                'parameter.  e.g. {"email" : "example@example.com"}  or {"email" : '
                '"example@example.com", "name" : "Example Recipient"}.',
                "field": "from.email",
                "help": f"{root}#message.from",
            },
            {
                "message": "The personalizations field is required and must have at least one "
                "personalization.",
                "field": "personalizations",
                "help": f"{root}#-Personalizations-Errors",
            },
            {
                "message": "Unless a valid template_id is provided, the content parameter is "
                "required. There must be at least one defined content block. We typically "
                "suggest both text/plain and text/html blocks are included, but only one block "
                "is required.",
                "field": "content",
                "help": f"{root}#message.content",
            },
        ]
    }


def test_recipient_errors_carry_the_personalizations_help(shared_http: httpx.Client) -> None:
    """The to entry without email: the body of sendgrid-php#972 / django-sendgrid-v5#10."""
    body = mail_body(personalizations=[{"to": [{"name": "Bob"}]}])
    response = shared_http.post("/v3/mail/send", json=body)
    assert response.json() == {
        "errors": [
            {
                "message": "The to email parameter is required.",
                "field": "personalizations.0.to.0.email",
                "help": "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"
                "#message.personalizations.to",
            }
        ]
    }


def test_error_help_links_to_the_errors_page(shared_sg: SendGridAPIClient) -> None:
    with pytest.raises(BadRequestsError) as caught:
        shared_sg.client.mail.send.post(request_body=mail_body(personalizations=[]))
    [error] = caught.value.to_dict["errors"]
    assert error["help"].startswith("http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors")


@pytest.mark.parametrize("payload", [b"{not json", b"[1, 2]", b'"text"'])
def test_malformed_json_is_a_bare_bad_request(shared_http: httpx.Client, payload: bytes) -> None:
    response = shared_http.post(
        "/v3/mail/send", content=payload, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json() == {"errors": [{"message": "Bad Request", "field": None, "help": None}]}


def test_non_json_content_type_is_415(shared_http: httpx.Client) -> None:
    response = shared_http.post("/v3/mail/send", data={"personalizations": "x"})
    assert response.status_code == 415
    assert response.json()["errors"][0]["field"] is None


def test_body_over_30_mb_is_413(shared_http: httpx.Client) -> None:
    bomb = gzip.compress(b" " * (30 * 1024 * 1024 + 10))  # 30 MB of JSON whitespace, ~30 KB sent
    response = shared_http.post(
        "/v3/mail/send",
        content=bomb,
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["message"] == "content too large"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_other_methods_are_405(shared_http: httpx.Client, method: str) -> None:
    response = shared_http.request(method, "/v3/mail/send")
    assert response.status_code == 405
    assert response.json() == {
        "errors": [{"message": "method not allowed", "field": None, "help": None}]
    }


def test_template_subject_lifts_the_subject_requirement(http: httpx.Client) -> None:
    template = http.post("/v3/templates", json={"name": "t", "generation": "dynamic"}).json()
    http.post(
        f"/v3/templates/{template['id']}/versions",
        json={"name": "v1", "subject": "From template", "html_content": "<p>hi</p>"},
    )
    body = {k: v for k, v in mail_body(subject=None, content=None).items() if v is not None}
    response = http.post("/v3/mail/send", json={**body, "template_id": template["id"]})
    assert response.status_code == 202, response.text
    assert listed(http)[0]["Subject"] == "From template"
