"""Xledger (GraphQL; reimbursement export, seed 002). A static API token; GraphQL reports failures in an
`errors` array with HTTP 200, so validation reads the body, not only the status."""

from __future__ import annotations

from typing import Any

from adapters.base import Adapter
from adapters.checks import timed
from integrations.documents.document import AccountingIntegration, ValidationCheck
from shared.errors import ProviderError
from shared.redaction import REDACTOR


class XledgerAdapter(Adapter[AccountingIntegration]):
    def graphql(self, query: str, variables: dict[str, Any] | None = None, *, operation: str) -> dict[str, Any]:
        response = self.request("POST", "", operation=operation, json={"query": query, "variables": variables or {}})
        body = response.json()
        if body.get("errors"):
            raise ValueError(REDACTOR.excerpt("; ".join(e.get("message", "error") for e in body["errors"]), 300))
        data: dict[str, Any] = body["data"]
        return data

    # Field and mutation names follow Xledger's GraphQL conventions (connections with edges/node, dbId,
    # extIdentifier); they are unverified against a live schema (providers-detail.md) and kept in one place here.
    def find_reimbursement(self, key: str) -> str | None:
        query = (
            "query($ref: String!) { transactions(first: 1, filter: {extIdentifier_eq: $ref}) { edges { node { dbId } } } }"
        )
        edges = self.graphql(query, {"ref": key}, operation="sync.lookup")["transactions"]["edges"]
        return str(edges[0]["node"]["dbId"]) if edges else None

    def export_reimbursement(self, payload: dict[str, Any]) -> str:
        account = self.document.config.chart_of_accounts.get(payload["category"])
        if account is None:
            raise ProviderError(detail=f"no account mapped for category {payload['category']!r}", provider="xledger")
        mutation = (
            "mutation($node: TransactionInput!) { addTransactions(inputs: [{node: $node}]) { edges { node { dbId } } } }"
        )
        node = {
            "extIdentifier": payload["key"],
            "account": account,
            "amount": payload["amount"],
            "currency": payload["currency"],
            "text": payload["description"],
            "date": payload["approved_on"],
            "employee": payload["member_id"],
        }
        try:
            data = self.graphql(mutation, {"node": node}, operation="sync.export_reimbursement")
        except ValueError as exc:  # GraphQL validation errors: this record is wrong, not the provider
            raise ProviderError(detail=f"xledger rejected {payload['key']}: {exc}", provider="xledger") from None
        return str(data["addTransactions"]["edges"][0]["node"]["dbId"])

    def validate(self) -> list[ValidationCheck]:
        return [
            timed(
                "provider.authenticate",
                lambda: f"entity {self.graphql('{ viewer { entityName } }', operation='validate')['viewer']['entityName']}",
            )
        ]
