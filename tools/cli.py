"""Operator commands: `python -m tools.cli create-key --tenant T --scopes integrations:admin`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING

from tools.local_state import LocalState
from tools.runner import load_settings_values

if TYPE_CHECKING:  # the hub is imported only after the settings are loaded
    from integrations.wiring import Hub


def _hub() -> Hub:
    # The storage of a running `./hub run` (any of them: in one clone they share one), unless set explicitly.
    if "AzureWebJobsStorage" not in os.environ:
        storage = LocalState().storage_for_tools()
        if storage:
            os.environ["AzureWebJobsStorage"] = storage
    load_settings_values()
    from integrations.wiring import get_hub

    return get_hub()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create-key", help="Issue a tenant-scoped API key (printed once).")
    create.add_argument("--tenant", required=True)
    create.add_argument(
        "--scopes", default="integrations:read", help="Space- or comma-separated, e.g. 'integrations:admin audit:read'."
    )
    create.add_argument("--name", default="operator-issued")
    revoke = sub.add_parser("revoke-key", help="Revoke an API key by id.")
    revoke.add_argument("key_id")
    rotate = sub.add_parser(
        "rotate-key",
        help="Rotate an API key: a successor with the same scopes (printed once); the old one keeps "
        "working for the overlap.",
    )
    rotate.add_argument("key_id")
    rotate.add_argument("--tenant", required=True)
    rotate.add_argument("--overlap-hours", type=float, default=24.0)
    operator = sub.add_parser(
        "create-operator-key", help="Issue the hub operator's key (operator:plans, tenant hub-operator; printed once)."
    )
    operator.add_argument("--name", default="operator")
    plan = sub.add_parser("set-plan", help="Change a tenant's API plan (audited in its trail).")
    plan.add_argument("--tenant", required=True)
    plan.add_argument("--plan", required=True, choices=["free", "standard", "dedicated"])
    sub.add_parser(
        "rotate-signing-key",
        help="Make a new JWT signing key current now (the previous one verifies until its tokens expire).",
    )
    args = parser.parse_args(argv)

    from integrations.auth.principal import Scope

    hub = _hub()
    if args.command == "create-key":
        try:
            scopes = [Scope(s) for s in args.scopes.replace(",", " ").split()]
        except ValueError as exc:
            parser.error(f"{exc}; known scopes: {', '.join(s.value for s in Scope)}")
        issued = hub.api_keys.issue(tenant_id=args.tenant, scopes=scopes, name=args.name)
        print(
            json.dumps(
                {"key_id": issued.key_id, "api_key": issued.secret, "tenant_id": issued.tenant_id, "scopes": issued.scopes},
                indent=2,
            )
        )
    elif args.command == "revoke-key":
        hub.api_keys.revoke(args.key_id)
        print(json.dumps({"revoked": args.key_id}))
    elif args.command == "rotate-key":
        successor = hub.api_keys.rotate(args.key_id, tenant_id=args.tenant, overlap_s=int(args.overlap_hours * 3600))
        print(json.dumps({"rotated": args.key_id, "key_id": successor.key_id, "api_key": successor.secret}, indent=2))
    elif args.command == "create-operator-key":
        from integrations.secret_names import OPERATOR_TENANT

        issued = hub.api_keys.issue(tenant_id=OPERATOR_TENANT, scopes=[Scope.operator_plans], name=args.name)
        print(json.dumps({"key_id": issued.key_id, "api_key": issued.secret, "tenant_id": issued.tenant_id}, indent=2))
    elif args.command == "set-plan":
        before, now = hub.tenant_plans.set(args.tenant, args.plan, actor="operator:cli")
        print(json.dumps({"tenant_id": args.tenant, "plan": now, "was": before}))
    elif args.command == "rotate-signing-key":
        from integrations.auth.rotation import rotate_signing_key

        print(json.dumps({"current_kid": rotate_signing_key(hub.signing_keys)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
