"""Xledger: GraphQL with errors in the body."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devfakes.keyed.base import GOOD, KeyedBase


@dataclass
class XledgerFake(KeyedBase):
    xledger_entries: list[dict[str, Any]] = field(default_factory=list)

    def routes(self) -> list[Route]:
        return [
            Route("/xledger/graphql", self.xledger, methods=["POST"]),
        ]

    async def xledger(self, request: Request) -> Response:
        self._count("xledger")
        if request.headers.get("authorization") != f"token {GOOD['xledger']}":
            return JSONResponse({"errors": [{"message": "Unauthorized: the API token is invalid or expired"}], "data": None})
        body = await request.json()
        query, variables = body.get("query", ""), body.get("variables") or {}
        if "viewer" in query:
            return JSONResponse({"data": {"viewer": {"entityName": "Blindeforbundet (demo)"}}})
        if "addTransactions" in query:
            node = variables.get("node") or {}
            if not node.get("extIdentifier") or not node.get("account") or not (node.get("amount") or 0) > 0:
                return JSONResponse(
                    {
                        "errors": [
                            {"message": "Invalid input for TransactionInput: account and a positive amount are required"}
                        ],
                        "data": None,
                    }
                )
            with self.lock:
                db_id = str(50_000 + len(self.xledger_entries))
                self.xledger_entries.append({**node, "dbId": db_id})
            return JSONResponse({"data": {"addTransactions": {"edges": [{"node": {"dbId": db_id}}]}}})
        if "transactions(" in query:
            found = [e for e in self.xledger_entries if e["extIdentifier"] == variables.get("ref")]
            return JSONResponse({"data": {"transactions": {"edges": [{"node": {"dbId": e["dbId"]}} for e in found[:1]]}}})
        return JSONResponse({"errors": [{"message": "Cannot query field on type Query"}], "data": None})
