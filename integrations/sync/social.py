"""Auto-publishing (`capabilities.auto_publish_events`): a post the platform hands the outbox for a federation
event or a competition result (`social_post` records) is published once by an `auto_publish_posts` run. Graph
and X take no idempotency key, so a record whose earlier outcome is unknown (the run died after the provider
answered) is first looked for among the account's recent posts by the exact text the provider shows."""

from __future__ import annotations

from typing import Any

from adapters import capabilities as can
from adapters.social import post_of
from integrations.documents.document import IntegrationDocument
from integrations.social import already_posted
from integrations.sync.delivery import deliver
from integrations.sync.operation import SyncEnv
from integrations.sync.outbox import Outbox
from integrations.sync.progress import Progress


def auto_publish_posts(
    adapter: can.SocialAutoPublish, outbox: Outbox, document: IntegrationDocument, env: SyncEnv
) -> Progress:
    def find(payload: dict[str, Any]) -> str | None:
        account_id = str(payload["account_id"])
        return already_posted(adapter, account_id, adapter.account_token(account_id, "social.find"), post_of(payload))

    def push(payload: dict[str, Any]) -> str:
        account_id = str(payload["account_id"])
        return adapter.publish(account_id, adapter.account_token(account_id, "social.publish"), post_of(payload))

    return deliver("social_post", outbox, document, find=find, push=push, heartbeat=env.heartbeat)
