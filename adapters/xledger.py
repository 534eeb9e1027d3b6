"""Xledger (GraphQL; reimbursement export, seed 002). A static API token; GraphQL reports failures in an
`errors` array with HTTP 200, so validation reads the body, not only the status."""

from __future__ import annotations

from adapters.base import Adapter
from integrations.documents.document import ValidationCheck
from integrations.validation import timed


class XledgerAdapter(Adapter):
    def graphql(self, query: str, variables: dict | None = None, *, operation: str) -> dict:
        response = self.request("POST", "", operation=operation, json={"query": query, "variables": variables or {}})
        body = response.json()
        if body.get("errors"):
            raise ValueError("; ".join(e.get("message", "error") for e in body["errors"])[:300])
        return body["data"]

    def validate(self) -> list[ValidationCheck]:
        return [
            timed(
                "provider.authenticate",
                lambda: f"entity {self.graphql('{ viewer { entityName } }', operation='validate')['viewer']['entityName']}",
            )
        ]
