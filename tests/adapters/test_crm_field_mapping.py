"""Seed 003's field mapping, checked against the CRM's live schema: canonical member fields on the left, the
CRM's own writable fields on the right; unknown or read-only fields are refused by name, type mismatches warned."""

from __future__ import annotations

from typing import Any

from devfakes.keyed import GOOD
from devfakes.launcher import Fakes
from tests.helpers import ApiClient
from tests.setups import crm_doc


def mapping(**fields: str) -> dict[str, Any]:
    return {"member_object": "contact", "member_field_map": fields, "event_tag_field": "hlf_events"}


def test_a_dataverse_mapping_is_checked_field_by_field(admin: ApiClient, fakes: Fakes) -> None:
    fake = fakes.dynamics
    doc = admin.create(crm_doc("dynamics365", fake))
    path = f"{admin.integrations}/{doc['id']}"
    admin.request("PUT", f"{path}/credentials/oauth_client_secret_ref", json={"value": fake.client_secret})

    bad = mapping(first_name="firstname", last_name="nosuchfield", segment="fullname", shoe_size="hlf_segment")
    r = admin.request("PUT", f"{path}/crm/field-mapping", json=bad)
    assert r.status_code == 422, r.text
    errors = {e["pointer"]: e["message"] for e in r.json()["errors"]}
    assert set(errors) == {"/member_field_map/last_name", "/member_field_map/segment", "/member_field_map/shoe_size"}
    assert "no field 'nosuchfield'" in errors["/member_field_map/last_name"]
    assert "contact.fullname is read-only" in errors["/member_field_map/segment"]
    assert "not a canonical member field" in errors["/member_field_map/shoe_size"]
    wrong_object = admin.request(
        "PUT", f"{path}/crm/field-mapping", json={**mapping(email="emailaddress1"), "member_object": "lead"}
    )
    assert wrong_object.status_code == 422 and wrong_object.json()["errors"][0]["pointer"] == "/member_object"

    good = mapping(
        first_name="firstname", email="emailaddress1", birth_date="hlf_segment", membership_status="hlf_membershipstatus"
    )
    checked = admin.request("PUT", f"{path}/crm/field-mapping", params={"dry_run": "true"}, json=good)
    assert checked.status_code == 200 and not checked.json()["applied"]
    assert checked.json()["warnings"] == [
        {"pointer": "/member_field_map/birth_date", "message": "birth_date is a date; contact.hlf_segment is String"}
    ]
    assert admin.get(f"{path}/crm/field-mapping").json()["member_field_map"] != good["member_field_map"]  # dry run

    etag = admin.get(path).headers["ETag"]
    applied = admin.request("PUT", f"{path}/crm/field-mapping", json=good, headers={"If-Match": etag})
    assert applied.status_code == 200 and applied.json()["applied"], applied.text
    assert applied.headers["ETag"] != etag
    assert admin.get(f"{path}/crm/field-mapping").json()["member_field_map"] == good["member_field_map"]
    stale = admin.request("PUT", f"{path}/crm/field-mapping", json=good, headers={"If-Match": etag})
    assert stale.status_code == 412


def test_an_espocrm_mapping_naming_an_unknown_field_is_refused(admin: ApiClient, fakes: Fakes) -> None:
    doc = admin.create(crm_doc("espocrm", None, instance_url="https://crm.121.example", member_object="Contact"))
    path = f"{admin.integrations}/{doc['id']}"
    admin.request("PUT", f"{path}/credentials/api_key_ref", json={"value": GOOD["espocrm"]})
    body = {"member_object": "Contact", "member_field_map": {"first_name": "firstName", "phone": "mobile"},
            "event_tag_field": "cEvents"}  # fmt: skip
    r = admin.request("PUT", f"{path}/crm/field-mapping", json=body)
    assert r.status_code == 422 and r.json()["errors"] == [
        {"pointer": "/member_field_map/phone", "message": "Contact has no field 'mobile'"}
    ]
    body["member_field_map"]["phone"] = "phoneNumber"
    assert admin.request("PUT", f"{path}/crm/field-mapping", json=body).json()["warnings"] == []
