"""Liveness and readiness probes (no credentials)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from integrations.api.deps import HubDep

router = APIRouter(prefix="/api/health", tags=["health"])


@router.get("", operation_id="health", summary="Liveness")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/ready",
    operation_id="ready",
    summary="Readiness: storage reachable",
    responses={503: {"description": "A dependency is unreachable."}},
)
def ready(hub: HubDep) -> Any:
    checks: dict[str, str] = {}
    try:
        hub.integrations.list(
            "health-probe",
            __import__("integrations.repository", fromlist=["ListFilter"]).ListFilter(),
            size=1,
            continuation=None,
        )
        checks["tables"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["tables"] = f"unreachable: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503)
