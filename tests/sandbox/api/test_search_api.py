"""``/api/v1/search`` over HTTP: counts, paging, errors, delete by search."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox.api.helpers import LIST_KEYS, error_of, send


def test_search_counts_matches_but_totals_the_mailbox(api: httpx.Client) -> None:
    send(api, "invoice 1", Tags=["billing"])
    send(api, "invoice 2")
    send(api, "newsletter")
    body = api.get("/api/v1/search", params={"query": "subject:invoice"}).json()
    assert list(body) == LIST_KEYS
    assert (body["total"], body["messages_count"], body["count"]) == (3, 2, 2)
    assert [m["Subject"] for m in body["messages"]] == ["invoice 2", "invoice 1"]
    assert body["tags"] == ["billing"]
    page = api.get("/api/v1/search", params={"query": "invoice", "start": 1, "limit": 1}).json()
    assert [m["Subject"] for m in page["messages"]] == ["invoice 1"]
    counted = api.get("/api/v1/search", params={"query": "invoice", "limit": 0}).json()
    assert counted["messages"] == [] and counted["messages_count"] == 2
    tagged = api.get("/api/v1/search", params={"query": "tag:billing -subject:newsletter"})
    assert [m["Subject"] for m in tagged.json()["messages"]] == ["invoice 1"]


@pytest.mark.parametrize("query", ["", "   "])
def test_empty_query_is_400_json(shared_api: httpx.Client, query: str) -> None:
    assert error_of(shared_api.get("/api/v1/search", params={"query": query}), 400) == (
        "Error: no search query"
    )
    assert shared_api.delete("/api/v1/search", params={"query": query}).status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        "-",
        "%%%",
        "a\\b",
        "subject:'",
        "larger:99999999999999999999mb",
        "after:0000-00-00",
        'x" OR 1=1 --',
        "\u202e\u0000"[:1],
        "(((",
        "NEAR(",
        "^*",
    ],
)
def test_nasty_queries_are_never_500(shared_api: httpx.Client, query: str) -> None:
    send(shared_api)
    assert shared_api.get("/api/v1/search", params={"query": query}).status_code == 200


def test_too_many_terms_is_400(api: httpx.Client) -> None:
    response = api.get("/api/v1/search", params={"query": " ".join(["term"] * 60)})
    assert "more than" in error_of(response, 400)
    assert error_of(api.get("/api/v1/search", params={"query": "a\x00b"}), 400)


def test_delete_by_search(api: httpx.Client) -> None:
    send(api, "keep me")
    send(api, "drop me")
    response = api.delete("/api/v1/search", params={"query": "subject:drop"})
    assert response.text == "ok" and response.headers["content-type"].startswith("text/plain")
    assert [m["Subject"] for m in api.get("/api/v1/messages").json()["messages"]] == ["keep me"]


@pytest.mark.parametrize(
    "params",
    [
        {"start": "9" * 30, "limit": "9" * 30},
        {"start": "1e9", "limit": "-0"},
        {"tz": "../../etc/passwd"},
        {"tz": "x" * 5000},
        {"tz": "Europe/Paris", "start": "\x00"},
    ],
)
def test_odd_paging_and_zones_are_never_500(
    shared_api: httpx.Client, params: dict[str, str]
) -> None:
    for path in ("/api/v1/messages", "/api/v1/search", "/api/v2/messages"):
        response = shared_api.get(path, params={"query": "after:2020-01-01", **params})
        assert response.status_code == 200, (path, response.text)
