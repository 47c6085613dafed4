"""The Suppressions page and the message page's "why dropped" over plain HTTP: lists per
provider and domain, search, remove and clear (same-origin only), and the reason a recipient of
a message was dropped."""

from __future__ import annotations

import httpx
import pytest

from mailsandbox.runner import RunningSandbox
from tests.waiting import eventually
from tests.web.conftest import Sender

SG = {"Authorization": "Bearer SG.key"}
PAGE = "/ui/suppressions"


def same_origin(api: httpx.Client) -> dict[str, str]:
    return {"Origin": str(api.base_url).rstrip("/")}


def seed_sendgrid(api: httpx.Client, list_name: str, *emails: str) -> None:
    response = api.post(f"/v3/suppression/{list_name}", headers=SG, json={"emails": list(emails)})
    assert response.status_code in (200, 201), response.text


def sendgrid_list(api: httpx.Client, list_name: str) -> list[str]:
    entries = api.get(f"/v3/suppression/{list_name}", headers=SG).json()
    return sorted(entry["email"] for entry in entries)


def rows(html: str) -> list[str]:
    """The addresses listed in the page's table, in order."""
    marker = 'data-email="'
    return [part.split('"', 1)[0] for part in html.split(marker)[1:]]


def words(html: str) -> str:
    """The page with its whitespace runs collapsed (templates break lines freely)."""
    return " ".join(html.split())


def test_the_page_lists_each_provider_list_with_counts_and_search(api: httpx.Client) -> None:
    seed_sendgrid(api, "bounces", "ann+bounce@example.com", "bob@example.com")
    seed_sendgrid(api, "blocks", "carol@example.com")
    mailgun = api.post(
        "/v3/mg.example.com/unsubscribes", data={"address": "dee@example.com", "tag": "*"}
    )
    assert mailgun.status_code == 200, mailgun.text

    page = api.get(PAGE)
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert set(rows(page.text)) == {"ann+bounce@example.com", "bob@example.com"}  # bounces first
    assert 'href="/ui/suppressions" aria-current="page">Suppressions</a>' in page.text  # nav
    assert "2 addresses on the SendGrid bounce list" in page.text

    blocks = api.get(PAGE, params={"list": "block"})
    assert rows(blocks.text) == ["carol@example.com"]

    searched = api.get(PAGE, params={"list": "bounce", "q": "BOB@"})
    assert rows(searched.text) == ["bob@example.com"]
    assert api.get(PAGE, params={"q": "nobody"}).text.count('data-email="') == 0

    # Mailgun: the first domain with entries is shown; its unsubscribe list holds dee.
    mg = api.get(PAGE, params={"provider": "mailgun", "list": "unsubscribe"})
    assert rows(mg.text) == ["dee@example.com"]
    assert '<option value="mg.example.com" selected>' in mg.text
    # The same address is on no SendGrid list, and another domain's lists are empty.
    other = api.get(PAGE, params={"provider": "mailgun", "list": "unsubscribe", "domain": "x.io"})
    assert rows(other.text) == [] and "This list is empty." in other.text


def test_remove_and_clear_change_the_lists(api: httpx.Client) -> None:
    seed_sendgrid(api, "bounces", "ann+bounce@example.com", "bob@example.com")
    form = {"provider": "sendgrid", "list": "bounce", "email": "bob@example.com"}
    removed = api.post(f"{PAGE}/remove", data=form, headers=same_origin(api))
    assert removed.status_code == 303
    assert removed.headers["location"] == "/ui/suppressions?provider=sendgrid&list=bounce"
    assert sendgrid_list(api, "bounces") == ["ann+bounce@example.com"]

    # htmx gets HX-Redirect back to the page it came from (a local path only).
    back = {**form, "email": "ann+bounce@example.com", "next": "/view/abc"}
    htmx = api.post(f"{PAGE}/remove", data=back, headers={"HX-Request": "true"})
    assert (htmx.status_code, htmx.headers["hx-redirect"]) == (204, "/view/abc")
    assert sendgrid_list(api, "bounces") == []

    seed_sendgrid(api, "spam_reports", "a@example.com", "b@example.com")
    clear = {"provider": "sendgrid", "list": "spam_report", "next": "//evil.example/"}
    cleared = api.post(f"{PAGE}/clear", data=clear, headers=same_origin(api))
    assert cleared.status_code == 303 and cleared.headers["location"].startswith(PAGE)
    assert sendgrid_list(api, "spam_reports") == []


def test_mailgun_entries_are_removed_from_their_domain_only(api: httpx.Client) -> None:
    for domain in ("mg.example.com", "other.example.com"):
        added = api.post(f"/v3/{domain}/bounces", data={"address": "dee@example.com"})
        assert added.status_code == 200, added.text
    form = {"provider": "mailgun", "list": "bounce", "domain": "mg.example.com"}
    removed = api.post(
        f"{PAGE}/remove", data={**form, "email": "dee@example.com"}, headers=same_origin(api)
    )
    assert removed.status_code == 303
    assert api.get("/v3/mg.example.com/bounces/dee@example.com").status_code == 404
    assert api.get("/v3/other.example.com/bounces/dee@example.com").status_code == 200


@pytest.mark.parametrize("action", ["remove", "clear"])
def test_cross_origin_posts_change_nothing(api: httpx.Client, action: str) -> None:
    seed_sendgrid(api, "bounces", "ann+bounce@example.com")
    form = {"provider": "sendgrid", "list": "bounce", "email": "ann+bounce@example.com"}
    url = f"{PAGE}/{action}"
    assert api.post(url, data=form, headers={"Origin": "http://evil.example"}).status_code == 403
    assert api.post(url, data=form).status_code == 403  # no Origin, no proof it is our page
    cross = {"Sec-Fetch-Site": "cross-site", "HX-Request": "true"}
    assert api.post(url, data=form, headers=cross).status_code == 403
    assert sendgrid_list(api, "bounces") == ["ann+bounce@example.com"]


def test_an_unknown_list_is_never_cleared_instead_of_another(api: httpx.Client) -> None:
    seed_sendgrid(api, "bounces", "ann+bounce@example.com")
    form = {"provider": "sendgrid", "list": "nonsense"}
    assert api.post(f"{PAGE}/clear", data=form, headers=same_origin(api)).status_code == 303
    assert sendgrid_list(api, "bounces") == ["ann+bounce@example.com"]


def dropped_message(running: RunningSandbox, api: httpx.Client, send: Sender) -> str:
    """Bounce ann+bounce (magic address), then mail her again: the id of the dropped mail."""
    send(to="ann+bounce@example.com", subject="first")
    eventually(lambda: sendgrid_list(api, "bounces") == ["ann+bounce@example.com"])
    send(to="ann+bounce@example.com", subject="second")
    second = api.get("/api/v1/message/latest").json()["ID"]

    def rejected() -> bool:
        found = api.get(f"/api/v1/message/{second}/events").json()["events"]
        return any(e["Type"] == "rejected" for e in found)

    eventually(rejected)
    return str(second)


def test_the_message_page_says_why_a_recipient_was_dropped(
    running: RunningSandbox, api: httpx.Client, send: Sender
) -> None:
    message_id = dropped_message(running, api, send)
    page = words(api.get(f"/view/{message_id}").text)
    assert "<strong>ann+bounce@example.com</strong> was dropped:" in page
    assert "rejected</span> · Bounced Address — on the SendGrid bounce list since" in page
    assert 'action="/ui/suppressions/remove"' in page
    see_list = "/ui/suppressions?provider=sendgrid&amp;list=bounce&amp;q=ann%2Bbounce%40example.com"
    assert see_list in page

    form = {"provider": "sendgrid", "list": "bounce", "email": "ann+bounce@example.com"}
    api.post(f"{PAGE}/remove", data=form, headers=same_origin(api))
    fragment = words(api.get(f"/ui/message/{message_id}/events").text)
    assert "and is no longer: new mail to it is delivered" in fragment
    assert 'action="/ui/suppressions/remove"' not in fragment


def test_a_mailgun_drop_names_the_domain_list(api: httpx.Client) -> None:
    added = api.post("/v3/mg.example.com/complaints", data={"address": "eve@example.com"})
    assert added.status_code == 200, added.text
    sent = api.post(
        "/v3/mg.example.com/messages",
        data={"from": "shop@mg.example.com", "to": "eve@example.com", "subject": "s", "text": "t"},
    )
    assert sent.status_code == 200, sent.text
    message_id = api.get("/api/v1/message/latest").json()["ID"]
    # A suppressed recipient is dropped at accept, in the message's own transaction.
    fragment = words(api.get(f"/ui/message/{message_id}/events").text)
    assert "on the Mailgun complaint list of <code>mg.example.com</code> since" in fragment
    assert 'name="domain" value="mg.example.com"' in fragment
