"""File imports into an integration: a legacy federation file or a provider export, mapped by a recipe onto a
canonical model and handed to the integration's outbox (or, with dry_run, only checked). The upload is
spooled to disk as it arrives (a 100k-row file never sits in memory); the import runs as the request's work,
saving progress that `GET …/imports/{id}` shows meanwhile; the error report lists every rejected cell."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any

import anyio
from fastapi import Path, Query, Request, Response
from pydantic import BaseModel, Field

from canonical.recipes.recipe import shipped
from integrations.api.deps import (
    DATA_READ,
    DATA_WRITE,
    DataReader,
    DataWriter,
    ImporterDep,
    ImportsDep,
    IntegrationsDep,
    Reader,
    Ref,
    SettingsDep,
    UploadsDep,
    demand_for_model,
)
from integrations.api.problems import ANY_CREDENTIAL, COMMON, WRITE, P, problems
from integrations.api.routing import api_router
from integrations.api.uploads import spool, spool_blob
from integrations.imports.run import Upload, recipe_named
from integrations.imports.store import ImportError_, ImportJob
from shared.csv_cells import csv_bytes
from shared.errors import FieldError, ValidationFailed

router = api_router(prefix="/api/v1/tenants/{tenant_id}/integrations/{integration_id}/imports", tags=["imports"])
ImportId = Annotated[str, Path(pattern=r"^[0-9a-f]{24}$", description="Import id.")]
ERRORS_SHOWN = 1000
UPLOAD_URL_VALID = timedelta(hours=1)


class ImportList(BaseModel):
    items: list[ImportJob]


class ImportErrors(BaseModel):
    items: list[ImportError_] = Field(description=f"The first {ERRORS_SHOWN} errors; errors.csv has them all.")
    total_shown: int


@router.post(
    "",
    status_code=201,
    response_model=ImportJob,
    openapi_extra=DATA_WRITE,
    responses=problems(
        WRITE,
        own={
            200: {"model": ImportJob, "description": "The same file was imported before: its first import."},
            413: "The file is larger than HUB_IMPORT_MAX_BYTES.",
            415: "Not multipart/form-data, text/csv, application/json or application/octet-stream.",
            422: {
                **P,
                "description": "Unknown recipe, a file that cannot be read as a whole (no header, missing "
                "columns, unknown encoding), or a recipe whose records this integration does not take.",
            },
        },
    ),
)
async def import_file(
    request: Request,
    response: Response,
    ref: Ref,
    principal: DataWriter,
    importer: ImporterDep,
    uploads: UploadsDep,
    settings: SettingsDep,
    recipe: Annotated[str, Query(pattern=r"^[a-z0-9_]{1,60}$", description="A recipe (GET …/recipes lists them).")],
    dry_run: Annotated[bool, Query(description="Check every row; write nothing to the outbox.")] = False,
    encoding: Annotated[
        str | None, Query(max_length=40, description="The file's encoding (else the upload's charset, else detected).")
    ] = None,
    file_name: Annotated[str, Query(max_length=200, description="For the record, with a raw-body upload.")] = "upload",
    blob: Annotated[
        str | None,
        Query(max_length=300, description="A file uploaded through …/imports:upload-url (then the body is empty)."),
    ] = None,
) -> Any:
    """Import a file through a mapping recipe (multipart field `file`, or the raw CSV/JSON body)"""
    demand_for_model(principal, recipe_named(recipe).model, write=True)
    if blob is None:
        stream, sha256, size, charset, uploaded_as = await spool(request)
        file_name = uploaded_as or file_name
    else:
        if not blob.startswith(f"{ref.tenant_id}/{ref.integration_id}/"):  # another integration's upload is not this one's
            raise ValidationFailed("Not an upload of this integration.", [FieldError("query:blob", "unknown upload")])
        stream, sha256, size = await anyio.to_thread.run_sync(lambda: spool_blob(uploads, blob, settings.import_max_bytes))
        charset, file_name = None, blob.rsplit("/", 1)[-1]
    with stream:
        upload = Upload(stream, file_name, size, sha256, encoding or charset)
        job, replayed = await anyio.to_thread.run_sync(lambda: importer.run(ref, recipe, upload, dry_run=dry_run))
    response.status_code = 200 if replayed else 201
    response.headers["Location"] = f"{request.url.path}/{job.id}"
    return job


class UploadUrl(BaseModel):
    upload_url: str = Field(description="PUT the file here (with `x-ms-blob-type: BlockBlob`): it can create this one blob.")
    blob: str = Field(description="Then name it in `POST …/imports?blob=…`.")
    expires_at: datetime
    headers: dict[str, str] = Field(description="Headers the PUT must carry.")


@router.post(":upload-url", response_model=UploadUrl, openapi_extra=DATA_WRITE, responses=COMMON)
def create_import_upload_url(ref: Ref, principal: DataWriter, integrations: IntegrationsDep, uploads: UploadsDep) -> Any:
    """A short-lived URL to upload a large import file straight to Blob Storage"""
    integrations.get(ref)  # 404 for an integration the tenant does not have
    name = f"{ref.tenant_id}/{ref.integration_id}/{uuid.uuid4().hex}"
    url, expires = uploads.upload_url(name, valid_for=UPLOAD_URL_VALID)
    return UploadUrl(upload_url=url, blob=name, expires_at=expires, headers={"x-ms-blob-type": "BlockBlob"})


@router.get("", response_model=ImportList, responses=COMMON, openapi_extra=DATA_READ)
def list_imports(ref: Ref, principal: DataReader, imports: ImportsDep) -> Any:
    """Imports into this integration, newest first"""
    return ImportList(items=imports.recent(ref))


@router.get("/{import_id}", response_model=ImportJob, responses=COMMON, openapi_extra=DATA_READ)
def get_import(ref: Ref, import_id: ImportId, principal: DataReader, imports: ImportsDep) -> Any:
    """An import, with its progress while it runs"""
    return imports.get(ref, import_id)


@router.get("/{import_id}/errors", response_model=ImportErrors, responses=COMMON, openapi_extra=DATA_READ)
def list_import_errors(ref: Ref, import_id: ImportId, principal: DataReader, imports: ImportsDep) -> Any:
    """An import's rejected cells (a member import's need members:read)"""
    demand_for_model(principal, imports.get(ref, import_id).model, write=False)
    items: list[ImportError_] = []
    for error in imports.errors(ref, import_id):
        if len(items) == ERRORS_SHOWN:
            break
        items.append(error)
    return ImportErrors(items=items, total_shown=len(items))


@router.get(
    "/{import_id}/errors.csv",
    response_class=Response,
    openapi_extra=DATA_READ,
    responses={**COMMON, 200: {"content": {"text/csv": {}}, "description": "The error report."}},
)
def download_import_errors(ref: Ref, import_id: ImportId, principal: DataReader, imports: ImportsDep) -> Any:
    """An import's error report as CSV (line, column, value, message; formula-safe; members:read for members)"""
    job = imports.get(ref, import_id)
    demand_for_model(principal, job.model, write=False)
    rows = ((e.line, e.column, e.value, e.message) for e in imports.errors(ref, import_id))
    body = csv_bytes(["line", "column", "value", "message"], rows)
    disposition = f'attachment; filename="import-{job.id}-errors.csv"'
    return Response(body, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition})


class RecipeSummary(BaseModel):
    recipe: str
    title: str
    model: str
    kind: str
    format: str
    delimiter: str
    encoding: str | None
    fields: list[str] = Field(description="The source columns (or JSON fields) the format documents.")


class RecipeList(BaseModel):
    items: list[RecipeSummary]


recipes_router = api_router(tags=["imports"])


@recipes_router.get("/api/v1/recipes", response_model=RecipeList, responses=ANY_CREDENTIAL)
def list_recipes(principal: Reader) -> Any:
    """The mapping recipes imports can use"""
    return RecipeList(
        items=[
            RecipeSummary(
                recipe=r.recipe,
                title=r.title,
                model=r.model,
                kind=r.kind,
                format=r.source.format,
                delimiter=r.source.delimiter,
                encoding=r.source.encoding,
                fields=r.source.fields,
            )
            for r in shipped().values()
        ]
    )
