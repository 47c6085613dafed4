"""Display names with ``,`` or ``;``: accepted (SendGrid takes "Acme, Inc.", sendgrid-nodejs#1183)
and quoted in the message; a name the client sent already quoted (an RFC 5322 quoted-string,
as django-anymail's ``quote_string`` makes it) is quoted once, not twice."""

from __future__ import annotations

import httpx
import pytest

from tests.emulators.sendgrid.helpers import listed, mail_body, raw_message


@pytest.mark.parametrize(
    ("name", "header"),
    [
        ("Acme, Inc.", '"Acme, Inc." <shop@example.com>'),
        ("Doe; John", '"Doe; John" <shop@example.com>'),
        ('"Acme, Inc."', '"Acme, Inc." <shop@example.com>'),  # quoted by the client
        ('"Acme \\"Best\\", Inc."', '"Acme \\"Best\\", Inc." <shop@example.com>'),
        ("Plain Name", "Plain Name <shop@example.com>"),
    ],
)
def test_names_are_quoted_once(http: httpx.Client, name: str, header: str) -> None:
    body = mail_body(**{"from": {"email": "shop@example.com", "name": name}})
    body["personalizations"][0]["to"][0]["name"] = name
    body["reply_to"] = {"email": "shop@example.com", "name": name}
    response = http.post("/v3/mail/send", json=body)
    assert response.status_code == 202, response.text
    [summary] = listed(http)
    raw = http.get(f"/api/v1/message/{summary['ID']}/raw").text
    assert f"From: {header}\r\n" in raw
    assert f"Reply-To: {header}\r\n" in raw
    parsed = raw_message(http, summary["ID"])
    unquoted = name[1:-1].replace('\\"', '"') if name.startswith('"') else name
    assert parsed["To"].addresses[0].display_name == unquoted
