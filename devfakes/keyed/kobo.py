"""KoboToolbox: `Token` auth, form submissions paged by start/limit with a next link, `_submission_time` queries."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devfakes.keyed.base import GOOD, KeyedBase


@dataclass
class KoboFake(KeyedBase):
    kobo_submissions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # asset uid → submissions
    kobo_data_calls: int = 0

    def routes(self) -> list[Route]:
        return [
            Route("/kobo/api/v2/assets/", self.kobo),
            Route("/kobo/api/v2/assets/{uid}/data/", self.kobo_data),
        ]

    async def kobo(self, request: Request) -> Response:
        self._count("kobo")
        if request.headers.get("authorization") != f"Token {GOOD['kobo']}":
            return JSONResponse({"detail": "Invalid token."}, status_code=401)
        return JSONResponse({"count": 1, "next": None, "previous": None, "results": [{"uid": "aBcDeFgHiJkLmN"}]})

    async def kobo_data(self, request: Request) -> Response:
        self._count("kobo")
        if request.headers.get("authorization") != f"Token {GOOD['kobo']}":
            return JSONResponse({"detail": "Invalid token."}, status_code=401)
        uid = request.path_params["uid"]
        if uid not in self.kobo_submissions:
            return JSONResponse({"detail": "Not found."}, status_code=404)
        q = request.query_params
        with self.lock:
            self.kobo_data_calls += 1
            rows = sorted(self.kobo_submissions[uid], key=lambda r: (r["_submission_time"], r["_id"]))
        if "query" in q:
            since = json.loads(q["query"])["_submission_time"]["$gte"]
            rows = [r for r in rows if r["_submission_time"] >= since]
        start, limit = int(q.get("start", 0)), min(int(q.get("limit", 100)), 1000)
        nxt = None
        if start + limit < len(rows):
            rest = {k: v for k, v in q.items() if k != "start"}
            nxt = f"{str(request.url).split('?', 1)[0]}?{urlencode({**rest, 'start': start + limit})}"
        return JSONResponse({"count": len(rows), "next": nxt, "previous": None, "results": rows[start : start + limit]})

    def kobo_submit(self, uid: str, answers: dict[str, Any], *, at: str) -> dict[str, Any]:
        with self.lock:
            rows = self.kobo_submissions.setdefault(uid, [])
            row = {
                "_id": 100_000 + sum(len(v) for v in self.kobo_submissions.values()),
                "_uuid": str(uuid.uuid4()),
                "_submission_time": at,
                "formhub/uuid": "f" * 32,
                "meta/instanceID": "uuid:x",
                **answers,
            }
            rows.append(row)
        return row
