"""CloudEvents 1.0 (JSON) of what the hub saw happen: the one place their envelope is built.

Every event's `source` is its integration (`/tenants/{t}/integrations/{i}`), or its tenant for a tenant-wide
fact (an API key rotated, a quota alert: `/tenants/{t}`), and its `id` is stable for the fact it reports (consumers dedupe on
it: delivery is at least once).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from integrations.documents.ref import IntegrationRef

TYPE_PREFIX = "dev.integration-hub."


class CloudEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    specversion: Literal["1.0"] = "1.0"
    type: str
    id: str
    source: str
    subject: str
    time: str | None = None
    datacontenttype: Literal["application/json"] = "application/json"
    data: dict[str, Any]


def cloud_event(
    kind: str,
    *,
    id: str,
    ref: IntegrationRef | str,
    subject: str,
    data: dict[str, Any],
    time: str | None = None,
) -> dict[str, Any]:
    """The JSON form of an event of type `dev.integration-hub.<kind>` (no `time` member when unknown) about the
    integration `ref`, or about the tenant whose id `ref` is."""
    event = CloudEvent(
        type=TYPE_PREFIX + kind,
        id=id,
        source=f"/tenants/{ref}" if isinstance(ref, str) else f"/tenants/{ref.tenant_id}/integrations/{ref.integration_id}",
        subject=subject,
        time=time,
        data=data,
    )
    return event.model_dump(exclude_none=True)
