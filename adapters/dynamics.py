"""Dynamics 365 / Dataverse (HLF portal, seed 002). Client credentials through msal against Entra ID;
validation is `WhoAmI`. Member sync (paging by @odata.nextLink, If-Match on updates) comes with the CRM
sync work."""

from __future__ import annotations

from adapters.base import Adapter


class DynamicsAdapter(Adapter):
    @property
    def base_url(self) -> str:
        if "base_url" in self.ctx.url_overrides:
            return self.ctx.url_overrides["base_url"].rstrip("/")
        return f"{str(self.document.config.instance_url).rstrip('/')}/api/data/v9.2"
