"""File imports over HTTP against Azurite: a legacy federation file through its recipe into a CRM
integration's outbox, once; malformed files answered row by row or with a clear 4xx, nothing lost."""

from __future__ import annotations

import csv
import http.client
import io
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from devfakes.launcher import Fakes
from integrations.documents.ref import IntegrationRef
from integrations.wiring import Hub
from tests.helpers import ApiClient
from tests.setups import active_espo

SAMPLES = Path(__file__).parents[2] / "canonical" / "recipes" / "samples"
FFPJP = (SAMPLES / "ffpjp_members.csv").read_bytes()
HEADER = FFPJP.split(b"\r\n")[0]


def upload(admin: ApiClient, path: str, data: bytes, *, recipe: str = "ffpjp_members", **params: Any) -> Any:
    files = {"file": ("members.csv", data, params.pop("content_type", "text/csv"))}
    return admin.post(f"{path}/imports", params={"recipe": recipe, **params}, files=files)


def row(**over: str) -> bytes:
    values = dict(zip(HEADER.decode("cp1252").split(";"), FFPJP.split(b"\r\n")[1].decode("cp1252").split(";"), strict=True))
    values.update(over)
    return ";".join(values.values()).encode("cp1252")


def test_a_legacy_file_lands_in_the_outbox_once(admin: ApiClient, hub: Hub, fakes: Fakes) -> None:
    doc, path = active_espo(admin)
    counts_before = hub.outbox.counts(IntegrationRef(admin.tenant, doc["id"]))

    dry = upload(admin, path, FFPJP, dry_run="true")
    assert dry.status_code == 201, dry.text
    assert dry.json()["accepted"] == 24 and dry.json()["created"] == 0 and dry.json()["encoding"] == "cp1252"
    assert hub.outbox.counts(IntegrationRef(admin.tenant, doc["id"])) == counts_before  # a dry run writes nothing

    first = upload(admin, path, FFPJP)
    assert first.status_code == 201, first.text
    job = first.json()
    assert (job["status"], job["rows"], job["accepted"], job["created"], job["rejected"]) == ("succeeded", 24, 24, 24, 0)
    assert job["file_name"] == "members.csv"  # the multipart upload's own name
    record = hub.outbox.get(IntegrationRef(admin.tenant, doc["id"]), "member", "01300000")
    assert record.payload["fields"]["last_name"] == "Dupont" and record.payload["fields"]["phone"].startswith("+336")
    assert "licence_category" not in record.payload["fields"]  # not in member_field_map: the CRM gets only mapped fields

    again = upload(admin, path, FFPJP)
    assert again.status_code == 200 and again.json()["id"] == job["id"]  # the same file: its first import
    assert admin.get(f"{path}/imports/{job['id']}").json()["created"] == 24
    assert len(admin.get(f"{path}/imports").json()["items"]) == 2  # the dry run and the import


def errors_csv(admin: ApiClient, path: str, job_id: str) -> list[dict[str, str]]:
    r = admin.get(f"{path}/imports/{job_id}/errors.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))


def test_malformed_files_get_row_errors_or_a_clear_4xx_and_no_row_is_lost(admin: ApiClient, hub: Hub, fakes: Fakes) -> None:
    doc, path = active_espo(admin)
    injection = "=cmd|' /C calc'!A0"
    rows = [
        row(),  # line 2: fine
        row(**{"N° Licence": "01300001", "Date de naissance": "31/02/1990"}),  # 3: no such day
        row(**{"N° Licence": "01300000"}),  # 4: the same licence as line 2
        row(**{"N° Licence": "01300002", "Sexe": injection}),  # 5: a formula where a code belongs
        b"01300003;too;few;cells",  # 6: a short row
        row(**{"N° Licence": "01300004", "Catégorie": "Espoir"}),  # 7: a category the recipe does not map
    ]
    r = upload(admin, path, HEADER + b"\r\n" + b"\r\n".join(rows) + b"\r\n")
    assert r.status_code == 201, r.text
    job = r.json()
    assert (job["status"], job["rows"], job["accepted"], job["rejected"]) == ("partial", 6, 1, 5)
    report = errors_csv(admin, path, job["id"])
    by_line = {int(e["line"]): e for e in report}
    assert sorted(by_line) == [3, 4, 5, 6, 7]  # every rejected row is in the report
    assert by_line[3]["column"] == "Date de naissance" and by_line[3]["value"] == "31/02/1990"
    assert "duplicate key: line 2" in by_line[4]["message"]
    assert by_line[5]["value"] == "'" + injection  # neutralised: a spreadsheet shows it, never runs it
    assert "4 cells where the header has 20" in by_line[6]["message"]
    assert by_line[7]["column"] == "Catégorie" and "not one of" in by_line[7]["message"]
    assert admin.get(f"{path}/imports/{job['id']}/errors").json()["total_shown"] == 5

    # the wrong encoding: a header that does not decode is a 422; a row that does not is reported, not garbled
    wrong = upload(admin, path, FFPJP, encoding="utf-8")
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["pointer"] == "query:encoding"
    utf8 = [line.decode("cp1252").encode("utf-8") for line in FFPJP.split(b"\r\n")[:4]]
    mixed = b"\r\n".join([*utf8[:3], row(**{"N° Licence": "01300009", "Prénom": "Hélène"})]) + b"\r\n"
    r = upload(admin, path, mixed, encoding="utf-8")
    assert r.status_code == 201 and (r.json()["rows"], r.json()["accepted"], r.json()["rejected"]) == (3, 2, 1)
    assert "declare the file's encoding" in errors_csv(admin, path, r.json()["id"])[0]["message"]

    # whole-file refusals: a clear 4xx naming what is wrong
    missing = upload(admin, path, b"Nom;Pr\xe9nom\r\nDUPONT;Jean\r\n")
    assert missing.status_code == 422 and missing.json()["errors"][0]["pointer"] == "body:file/header"
    assert "N° Licence" in missing.json()["errors"][0]["message"]
    empty = upload(admin, path, b"")
    assert empty.status_code == 422 and "empty" in empty.json()["detail"]
    unknown = upload(admin, path, FFPJP, recipe="no_such_recipe")
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["pointer"] == "query:recipe"
    bad_encoding = upload(admin, path, FFPJP, encoding="klingon-8")
    assert bad_encoding.status_code == 422 and bad_encoding.json()["errors"][0]["pointer"] == "query:encoding"
    wrong_type = admin.post(
        f"{path}/imports", params={"recipe": "ffpjp_members"}, data=FFPJP, headers={"Content-Type": "image/png"}
    )
    assert wrong_type.status_code == 415

    # a 2 GB declared size is refused before a byte is read
    url = urlsplit(admin.base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.putrequest("POST", f"{path}/imports?recipe=ffpjp_members")
    conn.putheader("Authorization", admin.session.headers["Authorization"])
    conn.putheader("Content-Type", "text/csv")
    conn.putheader("Content-Length", str(2 * 1024**3))
    conn.endheaders()
    answer = conn.getresponse()
    assert answer.status == 413 and answer.getheader("content-type") == "application/problem+json"
    conn.close()

    # nothing of the refused rows reached the outbox; the one good row did
    assert (
        hub.outbox.get(IntegrationRef(admin.tenant, doc["id"]), "member", "01300000").payload["fields"]["first_name"]
        == "Jean"
    )


def test_records_the_integration_does_not_take_are_refused_but_can_be_checked(admin: ApiClient, fakes: Fakes) -> None:
    _, path = active_espo(admin)
    invoices = (SAMPLES / "fortnox_invoices.json").read_bytes()
    r = admin.post(f"{path}/imports", params={"recipe": "fortnox_invoices"}, data=invoices,
                   headers={"Content-Type": "application/json"})  # fmt: skip
    assert r.status_code == 422 and "takes no invoice records" in r.json()["detail"]
    r = admin.post(f"{path}/imports", params={"recipe": "fortnox_invoices", "dry_run": "true"}, data=invoices,
                   headers={"Content-Type": "application/json"})  # fmt: skip
    assert r.status_code == 201 and r.json()["accepted"] == 3, r.text


def test_a_large_file_goes_to_blob_storage_first_and_is_imported_from_there(admin: ApiClient, fakes: Fakes) -> None:
    doc, path = active_espo(admin)
    grant = admin.post(f"{path}/imports:upload-url")
    assert grant.status_code == 200, grant.text
    url, blob = grant.json()["upload_url"], grant.json()["blob"]
    assert blob.startswith(f"{admin.tenant}/{doc['id']}/")
    put = requests.put(url, data=FFPJP, headers=grant.json()["headers"], timeout=10)
    assert put.status_code == 201, put.text
    assert requests.get(url, timeout=10).status_code == 403  # the URL writes; it does not read

    r = admin.post(f"{path}/imports", params={"recipe": "ffpjp_members", "blob": blob})
    assert r.status_code == 201, r.text
    assert (r.json()["accepted"], r.json()["encoding"], r.json()["bytes"]) == (24, "cp1252", len(FFPJP))
    same = admin.post(f"{path}/imports", params={"recipe": "ffpjp_members"}, files={"file": ("x.csv", FFPJP, "text/csv")})
    assert same.status_code == 200 and same.json()["id"] == r.json()["id"]  # the same bytes, however they came

    other, _ = active_espo(admin)
    theirs = admin.post(f"{admin.integrations}/{other['id']}/imports", params={"recipe": "ffpjp_members", "blob": blob})
    assert theirs.status_code == 422 and theirs.json()["errors"][0]["pointer"] == "query:blob"
    missing = admin.post(f"{path}/imports", params={"recipe": "ffpjp_members", "blob": f"{blob}-nope"})
    assert missing.status_code == 404
