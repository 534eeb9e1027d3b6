"""Request bodies: the base of every body a route declares, and reading raw JSON for the routes that take
free-form JSON (merge patches, secret values)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict

from shared.errors import BadRequest


class Body(BaseModel):
    """An unknown field is a 422 that names it, never silently dropped: a misspelt optional field would otherwise
    look accepted (and an unexpected one is where an inline secret would hide)."""

    model_config = ConfigDict(extra="forbid")


async def read_json(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise BadRequest("A JSON body is required.")
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadRequest("The request body is not valid JSON.") from None
