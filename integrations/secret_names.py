"""Secret names, and who owns them: read from the parsed structure of a name, never from a prefix.

Key Vault names allow only `[0-9A-Za-z-]`, so `--` is the separator and no segment may contain it:

    <tenant>--int-<24 hex>--<slot>   one integration's secret (written by the hub: intake, OAuth, token cache)
    <tenant>--shared--<name>         a tenant secret explicitly shared by the tenant's integrations
    hub--<purpose>--<id>             the hub's own (JWT signing keys)

Tenant ids cannot contain `--` and `hub` is reserved (`check_tenant_id`), so every name parses exactly one way:
tenant `club` cannot name `club--jr`'s secrets (that would be a fourth segment), and no tenant reaches the hub's.
A ref on a document may name only that integration's own secrets or the tenant's shared ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from integrations.documents.ref import IntegrationRef

TENANT_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"  # single hyphens only: `--` is the name separator
TENANT_MAX = 40
OPERATOR_TENANT = "hub-operator"  # the hub operator's own API keys belong here, never a federation's
RESERVED_TENANTS = frozenset({"hub", "shared", OPERATOR_TENANT})
HUB = "hub"
SHARED = "shared"
_TENANT = re.compile(TENANT_PATTERN)
_INTEGRATION = re.compile(r"^int-([0-9a-f]{24})$")
_SEGMENT = re.compile(r"^[0-9A-Za-z]+(?:-[0-9A-Za-z]+)*$")


class AmbiguousTenant(ValueError):
    """A tenant id that could be confused with another's secret namespace (or the hub's)."""


def check_tenant_id(tenant_id: str) -> str:
    if not tenant_id or len(tenant_id) > TENANT_MAX or not _TENANT.match(tenant_id):
        raise AmbiguousTenant(
            f"tenant ids are 1–{TENANT_MAX} lowercase letters, digits and single hyphens "
            "(no `--`, no leading or trailing hyphen): `--` separates the parts of secret names"
        )
    if tenant_id in RESERVED_TENANTS:
        raise AmbiguousTenant(f"`{tenant_id}` is reserved for the hub's own secrets")
    return tenant_id


def _segment(value: str) -> str:
    return value.replace("_", "-")


def integration_secret(ref: IntegrationRef, slot: str) -> str:
    """`<tenant>--int-<hex>--<slot>`: the only names the hub writes for an integration (never one that would not
    parse back to its owner)."""
    name = f"{check_tenant_id(ref.tenant_id)}--{_segment(ref.integration_id)}--{_segment(slot.removesuffix('_ref'))}"
    owner = owner_of(name)
    if owner is None or owner.integration_id != ref.integration_id:
        raise ValueError(f"not an integration id: {ref.integration_id!r}")
    return name


def hub_secret(purpose: str, ident: str) -> str:
    return f"{HUB}--{_segment(purpose)}--{_segment(ident)}"


@dataclass(frozen=True)
class SecretOwner:
    tenant_id: str | None  # None: the hub's own secret
    integration_id: str | None  # None: shared by the tenant's integrations (or the hub's)
    slot: str

    @property
    def is_hub(self) -> bool:
        return self.tenant_id is None


def owner_of(name: str) -> SecretOwner | None:
    """Who owns a secret name, or None when the name fits no namespace (then nobody may use it through a ref)."""
    parts = name.split("--")
    if len(parts) != 3 or not all(_SEGMENT.match(p) for p in parts):
        return None
    first, middle, last = parts
    if first == HUB:
        return SecretOwner(None, None, last)
    try:
        check_tenant_id(first)
    except AmbiguousTenant:
        return None
    if middle == SHARED:
        return SecretOwner(first, None, last)
    if m := _INTEGRATION.match(middle):
        return SecretOwner(first, f"int_{m.group(1)}", last)
    return None


def may_use(name: str, *, tenant_id: str, integration_id: str | None) -> bool:
    """May this integration (None: a document not created yet) name this secret? Its own, or its tenant's shared."""
    owner = owner_of(name)
    if owner is None or owner.is_hub or owner.tenant_id != tenant_id:
        return False
    return owner.integration_id is None or owner.integration_id == integration_id


def ownership_rule(tenant_id: str) -> str:
    """The rule in words, for field errors."""
    return f"must name this integration's own secret or one of `{tenant_id}--shared--<name>`"
