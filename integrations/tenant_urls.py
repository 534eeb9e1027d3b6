"""URLs a tenant writes into a document's config, held to the egress policy when the document is saved.

The same policy holds again when the URL is called (the outbound transport connects only to checked addresses),
so a name that resolves elsewhere later is still refused; the save-time check gives the tenant a field-level 422
instead of a red validation. A host that does not resolve yet is accepted at save (it may be set up later) and
refused at call time if it then resolves to a non-public address.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.egress import EgressPolicy, EgressRefused, Unresolved
from shared.errors import FieldError

# Config field → the schemes it may use (before the policy's HTTPS-only rule in production).
TENANT_URL_FIELDS: dict[str, tuple[str, ...]] = {
    "instance_url": ("https", "http"),  # CRM (Dataverse org, EspoCRM site)
    "server_url": ("https", "http"),  # KoboToolbox server
    "portal_url": ("https", "http"),  # LMS portal
    "ics_url": ("https",),  # iCal feed
    "rtmp_url": ("rtmps", "rtmp"),  # streaming ingest
}


@dataclass(frozen=True)
class TenantUrls:
    egress: EgressPolicy
    hosts_for: Callable[[str], tuple[str, ...]]  # provider → host patterns (catalog + operator's self-hosted)

    def field_errors(self, create: Any) -> list[FieldError]:
        errors = []
        config = create.config
        for name, schemes in TENANT_URL_FIELDS.items():
            value = getattr(config, name, None)
            if value is None:
                continue
            try:
                self.egress.check_url(str(value), hosts=self.hosts_for(create.provider), schemes=schemes)
            except Unresolved:
                continue  # not resolvable yet: accepted now, refused at connect if it later resolves somewhere private
            except EgressRefused as exc:
                errors.append(FieldError(f"/config/{name}", f"not allowed: {exc}"))
        return errors
