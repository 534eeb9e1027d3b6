"""The canonical models as integrators read them: every field documented, the JSON Schema and field list
served, the change history generated from the committed releases (and a changed schema caught)."""

from __future__ import annotations

import copy

import pytest

from canonical.catalog import MODELS
from canonical.history import diff_model, releases, snapshot, unversioned_changes
from tests.helpers import ApiClient


def test_every_field_of_every_model_is_documented() -> None:
    for name, entry in MODELS.items():
        for field, prop in entry.schema()["properties"].items():
            where = f"{name}.{field}"
            assert prop.get("description"), f"{where} has no description"
            assert prop.get("examples"), f"{where} has no example"
            assert prop.get("x-owner") in ("platform", "provider", "hub"), f"{where} names no owner"
        assert entry.description, f"{name} has no docstring"


def test_the_models_are_served_with_their_schema_fields_and_history(admin: ApiClient) -> None:
    listing = admin.get("/api/v1/models").json()["items"]
    assert {m["name"] for m in listing} == set(MODELS) and len(listing) == 13
    schema = admin.get("/api/v1/models/member").json()
    assert schema["x-model-version"] == "1.0" and schema["properties"]["first_name"]["x-owner"] == "platform"
    fields = {f["name"]: f for f in admin.get("/api/v1/models/member/fields").json()["items"]}
    assert fields["member_id"]["required"] and fields["birth_date"]["type"] == "date"
    assert fields["gender"]["choices"] == ["female", "male", "other", "unknown"]
    assert fields["segment"]["owner"] == "provider"
    assert admin.get("/api/v1/models/invoice/fields").json()["items"][0]["name"] == "key"
    history = admin.get("/api/v1/models/member/changes").json()["items"]
    assert history[0]["release"] == "1.0.0" and history[0]["change"] == "introduced"
    assert "first_name" in history[0]["after"]
    missing = admin.get("/api/v1/models/team")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


def test_the_code_matches_the_latest_release_or_the_version_was_bumped(monkeypatch: pytest.MonkeyPatch) -> None:
    assert releases(), "canonical/releases holds at least the first release"
    assert unversioned_changes() == []  # `python -m tools.models check`
    # a changed shape without a new version is caught; a changed description alone is not
    latest = copy.deepcopy(releases()[-1][1])
    latest["club"]["schema"]["properties"]["name"]["description"] = "Old wording."
    monkeypatch.setattr("canonical.history.releases", lambda: [("9.9.9", latest)])
    assert unversioned_changes() == []
    latest["club"]["schema"]["properties"]["name"]["maxLength"] = 50
    assert unversioned_changes() == ["club"]


def test_the_history_names_each_field_level_change() -> None:
    old = snapshot()["member"]
    new = copy.deepcopy(old)
    new["version"] = "1.1"
    props = new["schema"]["properties"]
    props["nickname"] = {"type": "string", "description": "Name used in results.", "x-owner": "platform"}
    del props["segment"]
    props["phone"]["description"] = "Mobile number."
    props["joined_on"] = {"type": "string"}
    new["schema"]["required"] = [*new["schema"].get("required", []), "last_name"]
    changes = {(c.field, c.change) for c in diff_model("1.1.0", old, new)}
    assert {("nickname", "added"), ("segment", "removed"), ("phone", "description"), ("joined_on", "type"),
            ("last_name", "required")} <= changes  # fmt: skip
    assert all(c.version == "1.1" for c in diff_model("1.1.0", old, new))
