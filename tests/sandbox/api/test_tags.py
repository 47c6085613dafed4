"""Tags endpoints (spec §6)."""

from __future__ import annotations

import httpx

from tests.sandbox.api.helpers import error_of, send


def test_set_list_rename_delete(api: httpx.Client) -> None:
    first, second = send(api, "one", Tags=["alpha"]), send(api, "two")
    assert api.get("/api/v1/tags").json() == ["alpha"]
    response = api.put(
        "/api/v1/tags", json={"IDs": [first, second], "Tags": ["b!ad", "Zed", "zed"]}
    )
    assert response.text == "ok"
    assert api.get("/api/v1/tags").json() == ["b ad", "Zed"]
    assert api.get(f"/api/v1/message/{first}").json()["Tags"] == ["b ad", "Zed"]
    assert api.put("/api/v1/tags/Zed", json={"Name": "Renamed"}).text == "ok"
    assert api.get("/api/v1/tags").json() == ["b ad", "Renamed"]
    assert api.put("/api/v1/tags/b%20ad", json={"Name": "renamed"}).status_code == 400
    assert api.delete("/api/v1/tags/b%20ad").text == "ok"
    assert api.get("/api/v1/tags").json() == ["Renamed"]
    assert api.get("/api/v1/messages").json()["total"] == 2  # no message was deleted
    api.put("/api/v1/tags", json={"IDs": [first], "Tags": []})
    assert api.get("/api/v1/search", params={"query": "is:tagged"}).json()["messages_count"] == 1


def test_tag_errors(api: httpx.Client) -> None:
    send(api, Tags=["one", "two"])
    assert "tag not found" in error_of(api.put("/api/v1/tags/none", json={"Name": "x"}), 400)
    assert "already exists" in error_of(api.put("/api/v1/tags/one", json={"Name": "two"}), 400)
    assert "invalid tag name" in error_of(api.put("/api/v1/tags/one", json={"Name": "!!"}), 400)
    assert api.put("/api/v1/tags/one", json={"Name": "one"}).text == "ok"
    assert "tag not found" in error_of(api.delete("/api/v1/tags/zzz"), 400)
    assert api.put("/api/v1/tags", content=b"nope").status_code == 400
    assert api.put("/api/v1/tags", json={"Tags": ["x"]}).text == "ok"  # no IDs: no-op
    assert api.get("/api/v1/tags").json() == ["one", "two"]
