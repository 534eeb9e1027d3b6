"""Liveness and readiness probes (no credentials)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from integrations.api.deps import HubDep
from integrations.repository import ListFilter

router = APIRouter(prefix="/api/health", tags=["health"])


@router.get("", operation_id="health", summary="Liveness")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/ready",
    operation_id="ready",
    summary="Readiness: tables, queues and the secret store reachable",
    responses={503: {"description": "A dependency is unreachable."}},
)
def ready(hub: HubDep) -> Any:
    checks: dict[str, str] = {}
    probes = {
        "tables": lambda: hub.integrations.list("health-probe", ListFilter(), size=1, continuation=None),
        "queues": lambda: hub.queues.client(hub.settings.queue_sync_jobs).get_queue_properties(),
        "secrets": lambda: hub.secret_store.versions("health-probe--none"),
    }
    for name, probe in probes.items():
        try:
            probe()
            checks[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - a probe reports, it does not fail
            checks[name] = f"unreachable: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503)
