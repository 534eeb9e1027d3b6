"""`./hub run`: Azurite + the local Functions runner + the fake providers, until Ctrl-C.

Storage, in order: `--storage` or an `AzureWebJobsStorage` other than `UseDevelopmentStorage=true` (attach to
it); else the Azurite another `./hub run` of this clone already runs (attach); else start Azurite on the
clone's data folder and own it (`tools/local_state.py`).
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import signal
import sys

from tools import azurite
from tools.local_state import DEV_STORAGE, LocalState
from tools.runner import LocalRunner, load_settings_values

LOOPBACK_DEFAULT = "http://127.0.0.1:7071"


def public_base_url(port: int, explicit: str | None, configured: str | None) -> str:
    """Where providers send the browser back (OAuth) and post callbacks: the caller's own setting, else a
    settings file's unless it is the sample's loopback default, which follows `--port` (a hub on 7391 must not
    send OAuth consent back to 7071)."""
    if explicit:
        return explicit
    if configured and configured != LOOPBACK_DEFAULT:
        return configured
    return f"http://127.0.0.1:{port}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the Integration Hub locally.")
    parser.add_argument("--port", type=int, default=7071)
    parser.add_argument("--json-logs", action="store_true", help="Structured JSON logs (as shipped to App Insights).")
    parser.add_argument("--no-fakes", action="store_true", help="Do not start the loopback fake providers.")
    parser.add_argument("--storage", help="Attach to this storage connection string instead of a local Azurite.")
    args = parser.parse_args(argv)
    from shared import logs

    logs.configure(json_format=args.json_logs)

    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <pid>` dumps every thread's stack
    explicit_base = os.environ.get("HUB_PUBLIC_BASE_URL")  # the caller's own, before the settings file's
    load_settings_values()
    os.environ["HUB_PUBLIC_BASE_URL"] = public_base_url(args.port, explicit_base, os.environ.get("HUB_PUBLIC_BASE_URL"))
    state = LocalState()
    if args.storage:
        os.environ["AzureWebJobsStorage"] = args.storage
    store, ownership, storage = None, None, "attached"
    if os.environ.get("AzureWebJobsStorage", DEV_STORAGE) == DEV_STORAGE:
        ownership = state.claim_storage()
        if ownership is None:
            os.environ["AzureWebJobsStorage"] = state.running_storage()
            storage = "attached to the Azurite of another ./hub run in this clone (it stops with that hub)"
        else:
            store = azurite.start(data_dir=state.data_dir)
            ownership.publish(store.connection_string)
            os.environ["AzureWebJobsStorage"] = store.connection_string
            storage = f"Azurite on {state.data_dir}"
    fakes = None
    if not args.no_fakes:
        from devfakes.launcher import start_fakes

        fakes = start_fakes()
        os.environ.setdefault("HUB_PROVIDER_URLS", json.dumps(fakes.provider_urls))
        # The fakes, and only they, may be reached on loopback (not the hub itself, nor Azurite).
        os.environ.setdefault("HUB_EGRESS_ALLOW_ORIGINS", json.dumps(fakes.origins))
        # The seed's "142 invoices = 1.3 % of the daily quota" is measured against the fake's daily quota.
        os.environ.setdefault("HUB_PROVIDER_DAILY_QUOTAS", json.dumps({"fortnox": fakes.fortnox.daily_quota}))
        # The fake tenant endpoint (events out) is certified by the fakes' test CA.
        os.environ.setdefault("HUB_ALERT_WEBHOOK_CA_BUNDLE", fakes.ca_bundle)
    runtime = state.write_runtime(
        args.port,
        {
            "AzureWebJobsStorage": os.environ["AzureWebJobsStorage"],
            "api": f"http://127.0.0.1:{args.port}",
            "storage": storage,
            "fakes": fakes.provider_urls if fakes else {},
            "tenant_endpoint": fakes.tenant_endpoint_url if fakes else None,
        },
    )

    import uvicorn

    import function_app

    runner = LocalRunner(function_app.app)
    runner.start_background()
    print(f"Integration Hub on http://127.0.0.1:{args.port}/api/docs  (Ctrl-C stops)", file=sys.stderr)
    print(f"storage: {storage}; runtime: {runtime}", file=sys.stderr)
    # uvicorn re-raises the signal that stopped it; with the default SIGTERM action the process would die
    # before the clean-up below and leave Azurite running. Exiting from a handler runs it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        # h11, not httptools: httptools answers a malformed header with a bare 400 before the app sees it, and
        # the edge answers those itself (problem+json, a fresh correlation id, rate-limit headers).
        uvicorn.run(runner.asgi_app, host="127.0.0.1", port=args.port, log_level="info", http="h11")
    finally:
        runner.stop()
        if fakes:
            fakes.stop()
        runtime.unlink(missing_ok=True)
        if store:
            store.stop()
        if ownership:
            ownership.release()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
