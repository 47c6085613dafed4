"""Unknown paths, wrong methods and invalid parameters answer in the shape of the API they fall
under (issue 11 §4), and never with FastAPI's ``{"detail": ...}``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mailsandbox.runner import start_in_thread
from tests.conftest import make_settings

SENDGRID_404 = {"errors": [{"field": None, "message": "resource not found"}]}
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """One sandbox for the module: these requests store nothing."""
    path: Path = tmp_path_factory.mktemp("shapes")
    running = start_in_thread(make_settings(path))
    with httpx.Client(base_url=running.url, timeout=30) as client:
        yield client
    running.stop()


def assert_no_detail(response: httpx.Response) -> None:
    assert '"detail"' not in response.text, (response.request.url, response.text)


@pytest.mark.parametrize(
    "path",
    [
        "/v3/nope",
        "/v3/mail",
        "/v3/mail/send/extra",
        "/v3/user/webhooks/nope",
        "/v3/templates/x/nope/y",
        "/v3/asm/groups",
        "/v3",
    ],
)
@pytest.mark.parametrize("method", METHODS)
def test_sendgrid_paths(api: httpx.Client, path: str, method: str) -> None:
    answer = api.request(method, path)
    assert (answer.status_code, answer.json()) == (404, SENDGRID_404)


@pytest.mark.parametrize(
    "path",
    [
        "/v3/mg.example.com/nope",
        "/v3/mg.example.com/messages/nope",
        "/v3/domains/mg.example.com/nope",
        "/v3/domains",
        "/v3/routes",
        "/v3/lists/x",
        "/v4/domains",
        "/v5/accounts/nope",
        "/v1/analytics/metrics",
    ],
)
@pytest.mark.parametrize("method", METHODS)
def test_mailgun_paths(api: httpx.Client, path: str, method: str) -> None:
    # api.mailgun.net answers an unknown endpoint with Go's plain 404, not JSON
    answer = api.request(method, path)
    assert (answer.status_code, answer.text) == (404, "404 page not found\n")
    assert answer.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "path", ["/api/v1/nope", "/api/v1/message/x/nope/y", "/api/v2/nope", "/api/nope", "/api/"]
)
@pytest.mark.parametrize("method", METHODS)
def test_rest_api_paths(api: httpx.Client, path: str, method: str) -> None:
    # the same 404 the known routes give: {"Error": ...} JSON
    answer = api.request(method, path)
    assert answer.status_code == 404
    assert answer.json() == {"Error": "404 page not found"}


@pytest.mark.parametrize("path", ["/ui/nope", "/ui/message/x/nope", "/ui/static/nope.js"])
def test_ui_paths_get_the_not_found_page(api: httpx.Client, path: str) -> None:
    answer = api.get(path)
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "Page not found" in answer.text and 'href="/"' in answer.text


@pytest.mark.parametrize("path", ["/nope", "/favicon.ico", "/wp-admin/x.php", "/v2/x", "/v1/x"])
def test_other_paths_get_a_plain_404(api: httpx.Client, path: str) -> None:
    for method in METHODS:
        answer = api.request(method, path)
        assert (answer.status_code, answer.text) == (404, "404 page not found\n"), method


def test_wrong_methods_answer_405_in_each_shape(api: httpx.Client) -> None:
    sendgrid = api.get("/v3/mail/send")
    assert sendgrid.status_code == 405 and sendgrid.headers["allow"] == "POST"
    assert sendgrid.json()["errors"][0]["message"] == "method not allowed"
    mailgun = api.get("/v3/mg.example.com/messages")
    assert (mailgun.status_code, mailgun.json()) == (405, {"message": "Method Not Allowed"})
    rest = api.post("/api/v1/info")
    assert (rest.status_code, rest.json()) == (405, {"Error": "Method Not Allowed"})
    assert rest.headers["allow"] == "GET"
    ui = api.delete("/ui/rules", headers={"HX-Request": "true"})
    assert (ui.status_code, ui.text) == (405, "Method Not Allowed\n")
    for answer in (sendgrid, mailgun, rest, ui):
        assert_no_detail(answer)


def test_invalid_parameters_answer_400_in_the_family_shape(api: httpx.Client) -> None:
    # a parameter FastAPI validates (an int) given text: 400 in the UI's shape, not a 422
    answer = api.get("/ui/message/x/preview", params={"remote": "yes"})
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/plain")
    assert "remote" in answer.text
    assert_no_detail(answer)
