"""Request bodies: the base of every body a route declares, and reading raw JSON for the routes that take
free-form JSON (merge patches, secret values)."""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from fastapi import Request
from pydantic import AfterValidator, BaseModel, ConfigDict

from shared.errors import BadRequest


class Body(BaseModel):
    """An unknown field is a 422 that names it, never silently dropped: a misspelt optional field would otherwise
    look accepted (and an unexpected one is where an inline secret would hide)."""

    model_config = ConfigDict(extra="forbid")


T = TypeVar("T")


def distinct(key: Callable[[T], Hashable], message: str) -> AfterValidator:
    """For a list field whose items must differ in `key`: a repeat is a 422 at the field, saying `message`."""

    def check(items: list[T]) -> list[T]:
        keys = [key(item) for item in items]
        if len(keys) != len(set(keys)):
            raise ValueError(message)
        return items

    return AfterValidator(check)


async def read_json(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise BadRequest("A JSON body is required.")
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadRequest("The request body is not valid JSON.") from None
