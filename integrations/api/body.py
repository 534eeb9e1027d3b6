"""Reading raw JSON bodies for routes that take free-form JSON (merge patches, secret values)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from shared.errors import BadRequest


async def read_json(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise BadRequest("A JSON body is required.")
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadRequest("The request body is not valid JSON.") from None
