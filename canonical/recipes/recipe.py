"""The recipe format. A recipe names its source (CSV columns or JSON fields, with the delimiter and encoding
a file usually comes in), the canonical model it fills, one rule per canonical field, and the source fields it
deliberately ignores (each with the reason). Loading validates it against the model: a rule for a field the
model does not have, or a value map onto a value the field does not take, fails at load, not at import."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from canonical.catalog import MODELS, ModelEntry

RECIPES = Path(__file__).parent


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Split(_Strict):
    """Take part of a value split on `sep`: `first`, `last`, `rest` (all but the first), `init` (all but the
    last), or `upper`/`lower` words (legacy files write "DUPONT Jean": the family name in capitals)."""

    sep: str = " "
    take: Literal["first", "last", "rest", "init", "upper", "lower"]


class Rule(_Strict):
    """How one canonical field is filled. Steps run in the order listed here."""

    source: str | list[str] | None = Field(
        None, alias="from", description="Source column or JSON path (dots); several are joined with `join`."
    )
    join: str = " "
    const: Any = Field(None, description="A fixed value (no source).")
    split: Split | None = None
    strip: bool = True
    case: Literal["upper", "lower", "title"] | None = None
    replace: list[tuple[str, str]] = Field(
        default_factory=list, description="Regular-expression substitutions, in order (e.g. national → E.164 numbers)."
    )
    pattern: str | None = Field(None, description="The source value must match (after the steps above).")
    values: dict[str, Any] | None = Field(None, description="Value map: source value → canonical value.")
    other: Literal["error", "keep", "empty"] = Field("error", description="A value the map does not name.")
    date_format: str | None = Field(None, description="strptime format of a date in the source.")
    decimal_comma: bool = Field(False, description="Numbers written 1 234,50.")
    minor_units: bool = Field(False, description="Multiply by 100 into an integer (fees in minor units).")
    default: Any = Field(None, description="When the source is empty or missing.")
    each: dict[str, Rule] | None = Field(None, description="For a list field: rules applied to every source item.")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def sources(self) -> list[str]:
        found = [self.source] if isinstance(self.source, str) else list(self.source or [])
        for rule in (self.each or {}).values():
            found += [f"{self.source}[].{s}" for s in rule.sources()]
        return found


class Source(_Strict):
    format: Literal["csv", "json"]
    description: str
    delimiter: str = ","
    encoding: str | None = Field(None, description="What files usually come in; detected when an upload is silent.")
    fields: list[str] = Field(min_length=1, description="Every column (or JSON field) the format documents.")
    sample: str = Field(description="A sample file beside the recipe (samples/…).")
    constructed_sample: bool = Field(
        description="True: the sample is constructed from the format's documented columns (no real export is public)."
    )


class Recipe(_Strict):
    recipe: str = Field(pattern=r"^[a-z0-9_]{1,60}$")
    title: str
    model: str
    kind: Literal["legacy", "provider"] = Field(description="A legacy federation file, or a provider's object.")
    source: Source
    fields: dict[str, Rule]
    ignore: dict[str, str] = Field(default_factory=dict, description="Source field → why it is not mapped.")

    @property
    def entry(self) -> ModelEntry:
        return MODELS[self.model]

    @model_validator(mode="after")
    def _against_model(self) -> Recipe:
        if self.model not in MODELS:
            raise ValueError(f"model {self.model!r} is not a canonical model ({sorted(MODELS)})")
        known = self.entry.model.model_fields
        unknown = sorted(set(self.fields) - set(known))
        if unknown:
            raise ValueError(f"fields not in the canonical {self.model}: {unknown}")
        listed = set(self.source.fields)
        for name, rule in self.fields.items():
            for source in (rule.source,) if isinstance(rule.source, str) else rule.source or ():
                if source.split(".")[0] not in listed:
                    raise ValueError(f"{name}: source {source!r} is not among source.fields")
        properties = self.entry.schema().get("properties", {})
        for name, rule in self.fields.items():
            choices = _choices(properties.get(name, {}))
            wrong = sorted(str(v) for v in (rule.values or {}).values() if choices and v not in choices)
            if wrong:
                raise ValueError(f"{name}: the value map gives {wrong}, which the field does not take ({choices})")
        stray = sorted(set(self.ignore) - listed)
        if stray:
            raise ValueError(f"ignore names fields the source does not have: {stray}")
        both = sorted(set(self.ignore) & {s for r in self.fields.values() for s in r.sources()})
        if both:
            raise ValueError(f"fields both mapped and ignored: {both}")
        return self


def _choices(prop: dict[str, Any]) -> list[Any]:
    """A field's closed vocabulary (a Literal), if it has one."""
    for option in prop.get("anyOf", [prop]):
        if "enum" in option:
            return list(option["enum"])
    return []


def load(path: Path) -> Recipe:
    try:
        return Recipe.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except ValueError as exc:  # pydantic's ValidationError is one; the file's name makes it findable
        raise ValueError(f"{path.name}: {exc}") from None


@cache
def shipped() -> dict[str, Recipe]:
    """Every recipe shipped with the hub, by name."""
    recipes = [load(p) for p in sorted(RECIPES.glob("*.yaml"))]
    return {r.recipe: r for r in recipes}
