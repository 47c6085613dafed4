"""A malformed bulk request deletes nothing (issue 14): only no body, ``{}`` or ``{"IDs": []}``
delete everything, and a search that selects nothing never deletes or marks every message."""

from __future__ import annotations

import httpx
import pytest

from mailsandbox.api.deps import MAX_BODY
from tests.sandbox.api.helpers import error_of, send

OVER_LIMIT = b'{"IDs": ["' + b"x" * MAX_BODY + b'"]}'
BAD_DELETE_BODIES = {
    "malformed JSON": b"{bad",
    "null": b"null",
    "a list": b'["x"]',
    "IDs not a list": b'{"IDs":"x"}',
    "IDs null": b'{"IDs": null}',
    "IDs of numbers": b'{"IDs": [1, 2]}',
    "another field": b'{"Search": "x"}',
    "invalid UTF-8": b'{"IDs": ["\xff\xfe"]}',
    "over the body limit": OVER_LIMIT,
}
MATCH_ALL_QUERIES = ['"', "((((", "subject:", "to:", '" "', "before:someday"]


def _ids(api: httpx.Client) -> list[str]:
    return [m["ID"] for m in api.get("/api/v1/messages").json()["messages"]]


@pytest.fixture
def three(api: httpx.Client) -> list[str]:
    return [send(api, "one"), send(api, "two"), send(api, "three")]


@pytest.mark.parametrize("body", list(BAD_DELETE_BODIES.values()), ids=list(BAD_DELETE_BODIES))
def test_delete_with_a_bad_body_is_400_and_deletes_nothing(
    api: httpx.Client, three: list[str], body: bytes
) -> None:
    response = api.request("DELETE", "/api/v1/messages", content=body)
    assert error_of(response, 400)
    assert sorted(_ids(api)) == sorted(three)


@pytest.mark.parametrize("body", [None, b"", b"  ", b"{}", b'{"IDs": []}', b'{"ids": []}'])
def test_only_no_body_or_no_ids_delete_everything(
    api: httpx.Client, three: list[str], body: bytes | None
) -> None:
    response = api.request("DELETE", "/api/v1/messages", content=body)
    assert (response.status_code, response.text) == (200, "ok")
    assert _ids(api) == []


def test_a_single_delete_with_an_empty_id_deletes_nothing(
    api: httpx.Client, three: list[str]
) -> None:
    """``DELETE /api/v1/messages/`` (MailHog's single delete, id left empty) is not redirected
    to the delete-all route."""
    response = api.request("DELETE", "/api/v1/messages/", follow_redirects=True)
    assert response.status_code == 404
    assert sorted(_ids(api)) == sorted(three)


@pytest.mark.parametrize("query", MATCH_ALL_QUERIES)
def test_delete_by_a_search_that_selects_nothing_is_400(
    api: httpx.Client, three: list[str], query: str
) -> None:
    response = api.delete("/api/v1/search", params={"query": query})
    assert error_of(response, 400)
    assert sorted(_ids(api)) == sorted(three)
    # Searching with it still lists every message, as in Mailpit: only bulk changes refuse it.
    assert api.get("/api/v1/search", params={"query": query}).json()["messages_count"] == 3


@pytest.mark.parametrize("query", [*MATCH_ALL_QUERIES, " "])
def test_mark_read_by_a_search_that_selects_nothing_is_400(
    api: httpx.Client, three: list[str], query: str
) -> None:
    response = api.put("/api/v1/messages", json={"Read": True, "Search": query})
    assert error_of(response, 400)
    assert api.get("/api/v1/messages").json()["unread"] == 3


def test_a_real_search_still_deletes_and_marks(api: httpx.Client, three: list[str]) -> None:
    assert api.put("/api/v1/messages", json={"Read": True, "Search": "subject:two"}).text == "ok"
    assert api.get("/api/v1/messages").json()["unread"] == 2
    assert api.delete("/api/v1/search", params={"query": "subject:one"}).text == "ok"
    assert sorted(_ids(api)) == sorted(three[1:])


@pytest.mark.parametrize(
    "body",
    [b"{bad", b"null", b'["x"]', b'{"IDs":"x", "Tags": []}', b'{"Tags": "x", "IDs": []}',
     b'{"IDs": ["\xff"], "Tags": []}', b""],
)  # fmt: skip
def test_set_tags_with_a_bad_body_changes_nothing(
    api: httpx.Client, three: list[str], body: bytes
) -> None:
    tagged = api.put("/api/v1/tags", json={"IDs": three, "Tags": ["keep"]})
    assert tagged.text == "ok"
    assert error_of(api.put("/api/v1/tags", content=body), 400)
    assert api.get("/api/v1/tags").json() == ["keep"]


def test_ui_delete_search_results_refuses_a_search_that_selects_nothing(
    api: httpx.Client, three: list[str]
) -> None:
    response = api.post(
        "/ui/messages/delete-search",
        data={"q": "subject:", "inbox": ""},
        headers={"HX-Request": "true", "HX-Current-URL": "/?q=subject%3A"},
    )
    assert response.status_code == 200
    assert "Nothing was deleted" in response.text
    assert response.headers["HX-Retarget"] == "#list"
    assert sorted(_ids(api)) == sorted(three)
