"""The FastAPI application: routers, problem handlers and the HTTP edge."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from integrations.api import docs, problems
from integrations.api.deprecations import DEPRECATIONS, Deprecation, mark
from integrations.api.edge import Edge
from integrations.api.examples import exemplified
from integrations.api.ratelimit import Limiter, document_limits
from integrations.api.routes import (
    accounting,
    adams,
    audit,
    calendar,
    calls,
    clients,
    console,
    credentials,
    crm,
    crm_records,
    dead_letters,
    enrollments,
    event_endpoints,
    exchange,
    health,
    imports,
    insurance,
    integrations,
    maps,
    messages,
    models,
    operator,
    payments,
    providers,
    registry,
    social,
    streaming,
    syncs,
    tokens,
    usage,
    webhooks,
)
from integrations.api.routing import without_repeated_summaries
from integrations.api_versions import HEADER as VERSION_HEADER
from integrations.api_versions import VERSIONS
from integrations.wiring import get_hub

API_VERSION = "1.0.0"


def _public_marked(schema: dict[str, Any]) -> dict[str, Any]:
    """Operations that take no API credential (health, JWKS, the token endpoint and OAuth callback, providers'
    webhooks: authenticated by client credentials, a signed `state` or a signature) say so: `security: []`."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            operation.setdefault("security", [])
    return schema


def _path_ordered(schema: dict[str, Any]) -> dict[str, Any]:
    """Path parameters listed in the order the path names them. FastAPI lists a route's own parameters before
    those of its dependencies, so `/…/{integration_id}/calls/{key}` would list `key` before the ids that
    `deps.Ref` declares; the contract (and every generated client's argument order) keeps the path's order."""
    for path, operations in schema.get("paths", {}).items():
        position = {name: path.find("{" + name + "}") for name in re.findall(r"{(\w+)}", path)}
        for operation in operations.values():
            params = operation.get("parameters")
            if params:
                in_path = sorted((p for p in params if p.get("in") == "path"), key=lambda p: position.get(p["name"], 0))
                operation["parameters"] = in_path + [p for p in params if p.get("in") != "path"]
    return schema


def _alternatives(schema: dict[str, Any]) -> dict[str, Any]:
    """Routes open to any of several scopes (`deps.any_of`) list one security requirement per scheme and scope."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            scopes = operation.pop("x-any-of-scopes", None)
            if not scopes:
                continue
            schemes = [next(iter(r)) for r in operation.get("security", [])]
            operation["security"] = [{scheme: [scope]} for scope in scopes for scheme in schemes]
    return schema


def _versioned(schema: dict[str, Any]) -> dict[str, Any]:
    """The API versions in the spec: `info.x-api-versions` (changes, sunsets) and, on every operation that takes a
    credential, the optional `Hub-Api-Version` header and the version response header."""
    schema["info"]["x-api-versions"] = [
        {"name": v.name, "released": v.released.date().isoformat(), "changes": list(v.changes),
         **({"sunset": v.sunset.date().isoformat()} if v.sunset else {})}
        for v in VERSIONS.values()
    ]  # fmt: skip
    parameter: dict[str, Any] = {  # inline on each operation: generators and diff tools read it without resolving a $ref
        "name": VERSION_HEADER,
        "in": "header",
        "required": False,
        "description": "Answer with this API version instead of the client's pinned one (see GET /api/v1/versions).",
        "schema": {"type": "string", "enum": list(VERSIONS)},
    }
    schema.setdefault("components", {}).setdefault("headers", {})["Hub-Api-Version"] = {
        "description": "The API version the response follows; a deprecated one also brings Deprecation, Sunset, Link.",
        "schema": {"type": "string"},
    }
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if operation.get("security") == []:
                continue
            operation.setdefault("parameters", []).append(dict(parameter))
            for response in operation.get("responses", {}).values():
                response.setdefault("headers", {})["Hub-Api-Version"] = {"$ref": "#/components/headers/Hub-Api-Version"}
    return schema


def create_api(
    *,
    limiter: Callable[[], Limiter | None] | None = None,
    max_body: int | None = None,
    deprecations: dict[str, Deprecation] | None = None,
    observe_status: Callable[[str, str, int], None] | None = None,
) -> FastAPI:
    app = FastAPI(
        title="Integration Hub API",
        version=API_VERSION,
        openapi_url="/api/openapi.json",
        docs_url=None,  # served below from the packaged Swagger UI: no CDN, so the docs work offline
        # One schema per model (not `X-Input`/`X-Output`): generated clients get one class per model, as
        # integrators expect, instead of duplicate names the generators drop (issue #23).
        separate_input_output_schemas=False,
        redoc_url=None,
        description="Typed integration documents for sports federations: payment, calendar, social, streaming, "
        "mapping, WADA/ADAMS, insurance, government registries, accounting, CRM, LMS, messaging.",
    )
    problems.install(app)
    docs.install(app)
    app.include_router(health.router)
    app.include_router(console.router)
    # Matched in the order included: the busiest paths first, so a request is not tried against every route
    # before its own — the providers' receivers (no other route's pattern can match /api/v1/webhooks/…), the
    # integration documents themselves (a few routes, read by every client), then the platform's record intake
    # (`…/outbox/<kind>` and the families' other write paths: literal paths no other router's pattern matches).
    app.include_router(webhooks.receivers)
    app.include_router(integrations.router)
    app.include_router(accounting.router)
    app.include_router(crm_records.router)
    app.include_router(enrollments.router)
    app.include_router(messages.router)
    app.include_router(calendar.router)
    app.include_router(registry.router)
    app.include_router(insurance.router)
    app.include_router(adams.router)
    app.include_router(credentials.router)
    app.include_router(audit.router)
    app.include_router(usage.router)
    app.include_router(providers.router)
    app.include_router(models.router)
    app.include_router(imports.router)
    app.include_router(imports.recipes_router)
    app.include_router(exchange.router)
    app.include_router(dead_letters.router)  # before syncs: /syncs/dead-letters is not a run id
    app.include_router(syncs.router)
    app.include_router(calls.router)
    app.include_router(crm.router)
    app.include_router(maps.router)
    app.include_router(social.router)
    app.include_router(streaming.router)
    app.include_router(payments.router)
    app.include_router(clients.router)
    app.include_router(clients.me_router)
    app.include_router(tokens.router)
    app.include_router(webhooks.router)
    app.include_router(event_endpoints.router)
    app.include_router(operator.router)
    deprecations = DEPRECATIONS if deprecations is None else deprecations
    mark(app, deprecations)
    generate = app.openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema is None:
            app.openapi_schema = exemplified(
                _versioned(
                    document_limits(
                        _alternatives(
                            _path_ordered(_public_marked(problems.document_problems(without_repeated_summaries(generate()))))
                        )
                    )
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(
        Edge,
        max_body=max_body if max_body is not None else get_hub_settings_max_body(),
        max_upload=get_hub_settings_max_upload(),
        # Default: buckets shared by every instance through Table Storage, spent from local leases.
        limiter=limiter or (lambda: get_hub().rate_limiter),
        deprecations=deprecations,
        observe_status=observe_status,
        verified_key=lambda presented: get_hub().api_keys.verified_cached(presented),
        on_request=lambda principal, path, method, status: get_hub().record_request(principal, path, method, status),
    )
    return app


def get_hub_settings_max_body() -> int:
    from shared.settings import get_settings

    return get_settings().max_body_bytes


def get_hub_settings_max_upload() -> int:
    from shared.settings import get_settings

    return get_settings().import_max_bytes
