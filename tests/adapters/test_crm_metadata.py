"""Seed 003's CRM settings screen: the connected CRM's objects and an object's fields, read live from
Dataverse `EntityDefinitions` and EspoCRM `Metadata` while the integration is still a draft."""

from __future__ import annotations

from devfakes.keyed import GOOD
from devfakes.launcher import Fakes
from tests.helpers import ApiClient, fortnox
from tests.setups import crm_doc


def test_dataverse_objects_and_fields(admin: ApiClient, fakes: Fakes) -> None:
    fake = fakes.dynamics
    doc = admin.create(crm_doc("dynamics365", fake))
    path = f"{admin.integrations}/{doc['id']}"
    admin.request("PUT", f"{path}/credentials/oauth_client_secret_ref", json={"value": fake.client_secret})
    objects = admin.get(f"{path}/crm/objects").json()["items"]
    assert {"name": "contact", "label": "Contact"} in objects
    fields = admin.get(f"{path}/crm/objects/contact/fields").json()
    by_name = {f["name"]: f for f in fields["items"]}
    assert by_name["emailaddress1"]["type"] == "String" and by_name["modifiedon"]["type"] == "DateTime"
    assert by_name["emailaddress1"]["writable"] and not by_name["modifiedon"]["writable"]
    missing = admin.get(f"{path}/crm/objects/nosuchthing/fields")
    assert missing.status_code == 404 and "nosuchthing" in missing.json()["detail"]
    assert admin.get(f"{path}/crm/objects/bad%20name/fields").status_code == 422
    usage = admin.get(f"{path}/usage").json()["by_operation"]
    assert usage["metadata"]["requests"] == 3


def test_espocrm_objects_and_fields(admin: ApiClient, fakes: Fakes) -> None:
    doc = admin.create(crm_doc("espocrm", None, instance_url="https://crm.121.example", member_object="Contact"))
    path = f"{admin.integrations}/{doc['id']}"
    admin.request("PUT", f"{path}/credentials/api_key_ref", json={"value": GOOD["espocrm"]})
    assert [o["name"] for o in admin.get(f"{path}/crm/objects").json()["items"]] == ["Account", "Contact"]
    fields = admin.get(f"{path}/crm/objects/Contact/fields").json()["items"]
    assert {"name": "emailAddress", "label": "emailAddress", "type": "email", "writable": True} in fields
    assert {"name": "modifiedAt", "label": "modifiedAt", "type": "datetime", "writable": False} in fields


def test_not_a_crm(admin: ApiClient) -> None:
    doc = admin.create(fortnox(admin.tenant))
    r = admin.get(f"{admin.integrations}/{doc['id']}/crm/objects")
    assert r.status_code == 409 and "no CRM metadata" in r.json()["detail"]
