"""Liveness and readiness probes (no credentials)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from fastapi.responses import JSONResponse

from integrations.api.deps import IntegrationsDep, QueuesDep, SecretStoreDep, SettingsDep
from integrations.api.routing import api_router
from integrations.repository import ListFilter

router = api_router(prefix="/api/health", tags=["health"])


READY_WITHIN_S = 1.5  # probes run side by side; one that has not answered by then is reported, not awaited
_PROBES = ThreadPoolExecutor(max_workers=6, thread_name_prefix="ready")


@router.get("")
async def health() -> dict[str, str]:
    # On the event loop, touching nothing: alive while storage hangs and every worker thread waits on it.
    """Liveness"""
    return {"status": "ok"}


@router.get("/ready", responses={503: {"description": "A dependency is unreachable."}})
def ready(integrations: IntegrationsDep, queues: QueuesDep, secret_store: SecretStoreDep, settings: SettingsDep) -> Any:
    """Readiness: tables, queues and the secret store reachable"""
    checks: dict[str, str] = {}
    probes = {
        "tables": lambda: integrations.list("health-probe", ListFilter(), size=1, continuation=None),
        "queues": lambda: queues.client(settings.queue_sync_jobs).get_queue_properties(),
        "secrets": lambda: secret_store.versions("health-probe--none"),
    }
    running = {name: _PROBES.submit(probe) for name, probe in probes.items()}
    wait(running.values(), timeout=READY_WITHIN_S)
    for name, future in running.items():
        if not future.done():
            checks[name] = f"unreachable: no answer within {READY_WITHIN_S} s"
        elif future.exception() is not None:  # a probe reports, it does not fail
            checks[name] = f"unreachable: {type(future.exception()).__name__}"
        else:
            checks[name] = "ok"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503)
