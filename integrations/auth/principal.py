"""Who is calling, and what they may do."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Scope(StrEnum):
    integrations_read = "integrations:read"
    integrations_write = "integrations:write"
    integrations_admin = "integrations:admin"  # lifecycle transitions, credentials
    syncs_run = "syncs:run"
    usage_read = "usage:read"
    audit_read = "audit:read"
    clients_admin = "clients:admin"  # issue, rotate and revoke API keys (never beyond one's own scopes)
    payments_write = "payments:write"  # take payments and issue refunds through a payment integration
    operator_plans = "operator:plans"  # the hub operator's: change a tenant's API plan (operator keys only)
    # Domain scopes (seed 001): narrower than integrations:*, for a client that only moves one kind of data.
    members_read = "members:read"  # member data the hub holds: member exports, member import error reports
    members_write = "members:write"  # hand members to the hub: the member intake, member imports
    licences_write = "licences:write"  # licence holders: insurance enrolments


# What each scope allows, as the API's security schemes publish it (openapi/v1.json).
SCOPE_DESCRIPTIONS: dict[Scope, str] = {
    Scope.integrations_read: "Read integration documents, their status, syncs and deliveries.",
    Scope.integrations_write: "Create and change integration documents; hand records to the outbox.",
    Scope.integrations_admin: "Lifecycle, credentials and everything below it (implies every other scope).",
    Scope.syncs_run: "Start sync runs and replay dead letters.",
    Scope.usage_read: "Read usage, quota burn and the API quota.",
    Scope.audit_read: "Read the tenant's audit trail.",
    Scope.clients_admin: "Issue, rotate and revoke API keys (never beyond the caller's own scopes).",
    Scope.payments_write: "Take payments and issue refunds through a payment integration.",
    Scope.operator_plans: "The hub operator's own: read and change a tenant's API plan (keys of `hub-operator`).",
    Scope.members_read: "Read member data the hub holds (member exports, member import error reports).",
    Scope.members_write: "Hand members to the hub (POST …/outbox/members, imports of member files).",
    Scope.licences_write: "Hand licence holders to the hub (POST …/outbox/insurance-enrolments).",
}

# `admin` implies `write` implies `read`, so a key need not list every scope.
IMPLIED: dict[Scope, frozenset[Scope]] = {
    Scope.integrations_admin: frozenset(
        {
            Scope.integrations_write,
            Scope.integrations_read,
            Scope.syncs_run,
            Scope.usage_read,
            Scope.audit_read,
            Scope.clients_admin,
            Scope.payments_write,
            Scope.members_read,
            Scope.members_write,
            Scope.licences_write,
        }
    ),
    # write covers the domain writes it always allowed; member *reads* are granted explicitly (personal data)
    Scope.integrations_write: frozenset({Scope.integrations_read, Scope.members_write, Scope.licences_write}),
    Scope.payments_write: frozenset({Scope.integrations_read}),
}


def expand(scopes: frozenset[Scope]) -> frozenset[Scope]:
    out = set(scopes)
    for s in scopes:
        out |= IMPLIED.get(s, frozenset())
    return frozenset(out)


@dataclass(frozen=True)
class Principal:
    tenant_id: str
    client_id: str  # api key id, OAuth client id, or user object id
    kind: str  # "api_key" | "oauth_client" | "user" | "operator"
    scopes: frozenset[Scope]
    api_version: str | None = None  # the API version the client is pinned to (API keys); None: the latest

    def can(self, scope: Scope) -> bool:
        return scope in self.scopes

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.client_id}"
