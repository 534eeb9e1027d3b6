"""The canonical data models as integrators read them: the list, each model's JSON Schema (with every field's
description, example, owner and unit), its fields as the field-mapping screen's left-hand dropdown, and its
field-level change history (generated from canonical/releases, see canonical/history.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, Field

from canonical.catalog import MODELS, ModelEntry
from canonical.history import changes
from integrations.api.deps import Authenticated
from integrations.api.problems import COMMON, Responses
from integrations.api.routing import api_router
from shared.errors import NotFound

router = api_router(prefix="/api/v1/models", tags=["models"])
ModelName = Annotated[str, Path(pattern=r"^[a-z_]{1,40}$", description="A canonical model's name.", examples=["member"])]
READ: Responses = {401: COMMON[401], 404: COMMON[404], 429: COMMON[429]}


class ModelSummary(BaseModel):
    name: str = Field(examples=["member"])
    version: str = Field(description="Changes whenever the model's schema does.", examples=["1.0"])
    description: str
    key: str | None = Field(description="The field that identifies a record (imports deduplicate on it).")
    fields: int


class ModelList(BaseModel):
    items: list[ModelSummary]


class ModelField(BaseModel):
    name: str = Field(examples=["first_name"])
    type: str = Field(description="JSON Schema type (or format, for dates).", examples=["string"])
    required: bool
    description: str
    example: Any = None
    owner: str = Field(description="Who owns the value: platform, provider or hub.", examples=["platform"])
    unit: str | None = None
    choices: list[Any] | None = Field(None, description="The allowed values, for a closed vocabulary.")


class ModelFields(BaseModel):
    model: str
    version: str
    items: list[ModelField]


class ModelChange(BaseModel):
    release: str = Field(description="The release the change shipped in, or `unreleased (after X)`.")
    version: str = Field(description="The model's version in that release.")
    field: str = Field(description="The field; empty for the model as a whole.")
    change: str = Field(examples=["added"])
    before: Any = None
    after: Any = None


class ModelChanges(BaseModel):
    model: str
    items: list[ModelChange]


def _entry(name: str) -> ModelEntry:
    try:
        return MODELS[name]
    except KeyError:
        raise NotFound(f"No canonical model {name!r} (known: {', '.join(sorted(MODELS))}).") from None


def model_fields(entry: ModelEntry) -> list[ModelField]:
    schema = entry.schema()
    required = set(schema.get("required", []))
    out = []
    for name, prop in schema.get("properties", {}).items():
        options = prop.get("anyOf", [prop])
        concrete = next((o for o in options if o.get("type") != "null"), prop)
        kind = concrete.get("format") or concrete.get("type") or "object"
        out.append(
            ModelField(
                name=name,
                type=kind,
                required=name in required,
                description=prop.get("description", ""),
                example=(prop.get("examples") or [None])[0],
                owner=prop.get("x-owner", "platform"),
                unit=prop.get("x-unit"),
                choices=concrete.get("enum"),
            )
        )
    return out


@router.get("", response_model=ModelList, responses=READ)
def list_models(principal: Authenticated) -> Any:
    """The canonical data models"""
    return ModelList(
        items=[
            ModelSummary(
                name=e.name,
                version=e.version,
                description=e.description,
                key=e.key,
                fields=len(e.model.model_fields),
            )
            for e in MODELS.values()
        ]
    )


@router.get("/{name}", response_model=dict[str, Any], responses=READ)
def get_model_schema(name: ModelName, principal: Authenticated) -> Any:
    """A canonical model's JSON Schema (descriptions, examples, x-owner, x-unit on every field)"""
    entry = _entry(name)
    return {**entry.schema(), "x-model-version": entry.version}


@router.get("/{name}/fields", response_model=ModelFields, responses=READ)
def list_model_fields(name: ModelName, principal: Authenticated) -> Any:
    """A canonical model's fields (the platform side of a field mapping)"""
    entry = _entry(name)
    return ModelFields(model=name, version=entry.version, items=model_fields(entry))


@router.get("/{name}/changes", response_model=ModelChanges, responses=READ)
def list_model_changes(name: ModelName, principal: Authenticated) -> Any:
    """A canonical model's field-level change history, generated from its releases"""
    _entry(name)
    return ModelChanges(model=name, items=[ModelChange(**vars(c)) for c in changes(name)])
