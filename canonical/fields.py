"""How a canonical field is declared: every field carries a description, an example, which side owns it and,
where it has one, a unit. They land in the JSON Schema (`examples`, `x-owner`, `x-unit`), which is what
`GET /api/v1/models/{name}` serves and what the change history diffs."""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cache
from typing import Annotated, Any

import pycountry
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints


class Owner(StrEnum):
    platform = "platform"  # the federation's platform is the source of truth; the hub and providers follow it
    provider = "provider"  # assigned or changed by the external system (its ids, its statuses)
    hub = "hub"  # derived by the hub (totals, digests)


def field(description: str, *, example: Any, owner: Owner = Owner.platform, unit: str | None = None, **more: Any) -> Any:
    """A documented field. `more` takes pydantic's own arguments (default, ge, max_length…)."""
    extra: dict[str, Any] = {"x-owner": owner.value}
    if unit:
        extra["x-unit"] = unit
    return Field(description=description, examples=[example], json_schema_extra=extra, **more)


class Canonical(BaseModel):
    """Base of every canonical model: unknown fields are errors; whitespace around strings is dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


@cache  # a few hundred codes; the import path validates one per row
def _currency(value: str) -> str:
    code = value.upper()
    if not re.fullmatch(r"[A-Z]{3}", code) or pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError(f"{value!r} is not an ISO 4217 currency code")
    return code


@cache
def _country(value: str) -> str:
    code = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", code) or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
    return code


# The hub's one definition of the two code types (integration documents take them from here too).
Currency = Annotated[
    str,
    BeforeValidator(lambda v: v if not isinstance(v, str) else v.strip()),
    AfterValidator(_currency),
    Field(description="ISO 4217 currency code.", examples=["SEK"]),
]
CountryCode = Annotated[
    str,
    AfterValidator(_country),
    Field(description="ISO 3166-1 alpha-2 country code; upper-cased automatically.", examples=["SE"]),
]
Key = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,80}$")]
Ref = Annotated[str, StringConstraints(min_length=1, max_length=50)]
Category = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
VatCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,20}$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Phone = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
