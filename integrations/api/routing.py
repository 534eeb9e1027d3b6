"""How a route module declares its operations: each endpoint is documented once, by its own name and docstring.

- The operationId is the endpoint function's name in camelCase (`list_sync_runs` → `listSyncRuns`), unless the
  decorator names one (a name that camelCase would spell badly, like `refreshOAuthToken`).
- The summary is the endpoint's docstring, as one line (FastAPI would make it the description and title-case the
  function name as the summary; `without_repeated_summaries` drops the description it still derives).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from enum import Enum
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute


def operation_id(name: str) -> str:
    return re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), name.strip("_"))


class DocumentedRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        doc = " ".join(inspect.cleandoc(endpoint.__doc__ or "").split())
        if kwargs.get("operation_id") is None:
            kwargs["operation_id"] = operation_id(endpoint.__name__)
        if kwargs.get("summary") is None and doc:
            kwargs["summary"] = doc
        super().__init__(path, endpoint, **kwargs)


def without_repeated_summaries(schema: dict[str, Any]) -> dict[str, Any]:
    """FastAPI makes an endpoint's docstring its description, and an included router's routes are rebuilt from
    it: drop the description wherever it only repeats the summary (the docstring's one line)."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if " ".join(operation.get("description", "").split()) == operation.get("summary"):
                operation.pop("description", None)
    return schema


def api_router(prefix: str = "", *, tags: list[str | Enum] | None = None, **kwargs: Any) -> APIRouter:
    """An APIRouter whose routes are `DocumentedRoute`s."""
    return APIRouter(prefix=prefix, tags=tags, route_class=DocumentedRoute, **kwargs)
