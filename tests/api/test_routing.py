"""A route is documented once: its operationId is its function's name in camelCase, its summary its docstring,
and the published contract does not repeat the summary as a description."""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import FastAPI
from fastapi.routing import APIRouter

import integrations.api.routes as routes
from integrations.api.app import create_api
from integrations.api.routing import DocumentedRoute, api_router, operation_id, without_repeated_summaries


def test_an_endpoint_is_named_and_summarised_by_its_function() -> None:
    router = api_router("/things", tags=["things"])

    @router.get("/{thing_id}")
    def get_thing_by_id(thing_id: str) -> dict[str, str]:
        """One thing, as stored"""
        return {"id": thing_id}

    app = FastAPI()
    app.include_router(router)
    operation = without_repeated_summaries(app.openapi())["paths"]["/things/{thing_id}"]["get"]
    assert operation["operationId"] == "getThingById" and operation["summary"] == "One thing, as stored"
    assert "description" not in operation
    assert operation_id("list_") == "list"


def test_every_route_module_documents_its_routes_this_way() -> None:
    for info in pkgutil.iter_modules(routes.__path__):
        module = importlib.import_module(f"{routes.__name__}.{info.name}")
        for router in [v for v in vars(module).values() if isinstance(v, APIRouter)]:
            if router.include_in_schema is False:
                continue  # the console's static files
            assert router.route_class is DocumentedRoute, f"{info.name}: make its router with api_router()"


def test_the_contract_has_a_summary_for_every_operation_and_no_echoed_description() -> None:
    for path, operations in create_api().openapi()["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method} {path} has no summary (a docstring)"
            assert not operation.get("description", "").startswith(operation["summary"]), f"{method} {path}"
