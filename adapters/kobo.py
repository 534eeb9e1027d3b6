"""KoboToolbox (data collection, seed 004: form submissions → registrations). `Authorization: Token …`;
submissions of a form (asset) page with `limit`/`start` and an absolute `next` link, filtered by a Mongo
style `query` on `_submission_time` and sorted by it, so an import resumes from the newest time it saw."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from adapters.base import Adapter
from integrations.documents.document import DataCollectionIntegration

METADATA_PREFIXES = ("_", "meta/", "formhub/")


def answers(submission: dict[str, Any]) -> dict[str, Any]:
    """The respondent's answers without Kobo's bookkeeping (ids, geolocation, attachments, versions…)."""
    return {k: v for k, v in submission.items() if not k.startswith(METADATA_PREFIXES)}


class KoboAdapter(Adapter[DataCollectionIntegration]):
    def submissions(self, asset_uid: str, since: str | None) -> Iterator[list[dict[str, Any]]]:
        """Pages of submissions at or after `since` (ISO time), oldest first."""
        params: dict[str, Any] = {"format": "json", "sort": json.dumps({"_submission_time": 1})}
        if since:
            params["query"] = json.dumps({"_submission_time": {"$gte": since}})
        # The next link carries the query; it is followed with our token, so only within the server's origin.
        for page in self.pages(f"/api/v2/assets/{asset_uid}/data/", operation="sync.import_registrations", params=params):
            yield page.items
