"""Meta's Graph API for Facebook Pages on loopback, behind the shared OAuth fake: the user's pages with their page
access tokens (`/me/accounts`), posts on a page's feed (text, link, a photo by URL, a scheduled time), their
comments (list, hide, delete) and page insights. Page calls take the *page's* token, never the user's (Graph's
error 190 otherwise), and every answer carries `X-App-Usage` percentages; at 100 % of the app's call budget
Graph answers error 4 (HTTP 403), as Meta does instead of a 429."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devfakes.oauth_accounting import OAuthAccountingFake

MIN_SCHEDULE_S = 600  # Graph refuses a scheduled_publish_time under 10 minutes ahead


async def _form(request: Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}


def _error(code: int, message: str, status: int = 400, subcode: int | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"message": message, "type": "OAuthException" if code == 190 else "GraphMethodException"}
    err["code"] = code
    if subcode is not None:
        err["error_subcode"] = subcode
    return {"error": err, "status": status}


@dataclass
class MetaFake(OAuthAccountingFake):
    pages: dict[str, dict[str, str]] = field(default_factory=dict)  # page id → name, page access token
    posts: dict[str, dict[str, Any]] = field(default_factory=dict)
    comments: dict[str, dict[str, Any]] = field(default_factory=dict)
    instagram: dict[str, str] = field(default_factory=dict)  # Instagram business account id → its page id
    containers: dict[str, dict[str, Any]] = field(default_factory=dict)
    app_calls: int = 0
    app_call_budget: int = 10_000  # calls an hour before error 4 (X-App-Usage call_count reaches 100)

    def __post_init__(self) -> None:
        if not self.pages:
            for page_id, name in (("104500001", "Svenska Bouleförbundet"), ("104500002", "SBF Ungdom")):
                self.pages[page_id] = {"name": name, "access_token": "EAAPage" + secrets.token_urlsafe(24)}
        if not self.instagram:
            self.instagram["17841400000000001"] = "104500001"  # the federation's Instagram, linked to its page

    # -- plumbing ---------------------------------------------------------------------------------------------

    def _answer(self, body: dict[str, Any], status: int = 200) -> Response:
        usage = {"call_count": min(100, self.app_calls * 100 // self.app_call_budget), "total_time": 1, "total_cputime": 1}
        return JSONResponse(body, status_code=status, headers={"X-App-Usage": json.dumps(usage)})

    def _fail(self, error: dict[str, Any]) -> Response:
        return self._answer({"error": error["error"]}, error["status"])

    def _counted(self) -> Response | None:
        with self.lock:
            self.app_calls += 1
            if self.app_calls > self.app_call_budget:
                return self._fail(_error(4, "Application request limit reached", 403))
        return None

    def _user(self, request: Request) -> Response | None:
        if over := self._counted():
            return over
        if not self._bearer_ok(request):
            return self._fail(_error(190, "Invalid OAuth access token.", 401))
        return None

    def _page(self, request: Request, page_id: str) -> Response | None:
        """The request must carry this page's token (a user token or another page's is Graph's error 190)."""
        if over := self._counted():
            return over
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        page = self.pages.get(page_id)
        if page is None:
            return self._fail(_error(100, f"Unsupported request: object {page_id} does not exist", 400, 33))
        if not token or token != page["access_token"]:
            return self._fail(_error(190, "A page access token is required for this call.", 401))
        return None

    def _page_of(self, object_id: str) -> str:
        """The page an object belongs to: a page post `<page>_<n>`, an Instagram account, or its media."""
        head = object_id.split("_", 1)[0]
        if head in self.instagram:
            return self.instagram[head]
        media = self.posts.get(object_id)
        return str(media["page"]) if media and "page" in media else head

    def _ig_of(self, page_id: str) -> str | None:
        return next((ig for ig, page in self.instagram.items() if page == page_id), None)

    # -- Meta's tokens: no refresh tokens; a short-lived user token exchanged once for a long-lived one --------

    long_lived_s: int = 60 * 86400
    exchanges: int = 0

    def _issue(self, scopes: list[str]) -> dict[str, Any]:
        issued = super()._issue(scopes)
        self.refresh.pop(issued.pop("refresh_token"), None)  # Meta grants none
        self.access[issued["access_token"]] = time.time() + 3600  # the code's user token: an hour
        issued["expires_in"] = 3600
        return issued

    async def token(self, request: Request) -> Response:
        form = await _form(request)
        if form.get("grant_type") == "refresh_token":
            return JSONResponse({"error": {"message": "Unsupported grant_type: refresh_token", "code": 100}}, 400)
        if form.get("grant_type") != "fb_exchange_token":
            return await super().token(request)
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return JSONResponse({"error": {"message": "Error validating client secret.", "code": 1}}, status_code=400)
        short = form.get("fb_exchange_token", "")
        if self.access.get(short, 0) <= time.time():
            return JSONResponse({"error": {"message": "Invalid OAuth access token.", "code": 190}}, status_code=400)
        long_lived = "EAALong" + secrets.token_urlsafe(24)
        with self.lock:
            self.exchanges += 1
            self.access[long_lived] = time.time() + self.long_lived_s
        return JSONResponse({"access_token": long_lived, "token_type": "bearer", "expires_in": self.long_lived_s})

    def expire_user_tokens(self) -> None:
        """Sixty days later: every user token the fake issued is dead (page tokens are not)."""
        with self.lock:
            for token in self.access:
                self.access[token] = 0

    # -- the user ---------------------------------------------------------------------------------------------

    async def me(self, request: Request) -> Response:
        if denied := self._user(request):
            return denied
        return self._answer({"id": "10150000000000001", "name": "Federation admin"})

    async def accounts(self, request: Request) -> Response:
        if denied := self._user(request):
            return denied
        data = [
            {"id": pid, "name": p["name"], "access_token": p["access_token"], "tasks": ["CREATE_CONTENT", "MODERATE"]}
            | ({"instagram_business_account": {"id": ig, "username": "svenskboule"}} if (ig := self._ig_of(pid)) else {})
            for pid, p in self.pages.items()
        ]
        return self._answer({"data": data, "paging": {"cursors": {"before": "b", "after": "a"}}})

    # -- a page -----------------------------------------------------------------------------------------------

    async def page(self, request: Request) -> Response:
        object_id = request.path_params["page_id"]
        page_id = self._page_of(object_id)
        if denied := self._page(request, page_id):
            return denied
        if object_id in self.instagram:
            return self._answer({"id": object_id, "username": "svenskboule"})
        return self._answer({"id": page_id, "name": self.pages[page_id]["name"]})

    async def publish(self, request: Request) -> Response:
        page_id, edge = request.path_params["page_id"], request.path_params["edge"]
        if edge not in ("feed", "photos"):
            return self._fail(_error(100, f"Unknown edge {edge}", 400))
        if denied := self._page(request, page_id):
            return denied
        form = await _form(request)
        published = str(form.get("published", "true")).lower() != "false"
        scheduled = form.get("scheduled_publish_time")
        if scheduled is not None:
            if published:
                return self._fail(_error(100, "Scheduled posts must be created with published=false", 400))
            if int(str(scheduled)) < time.time() + MIN_SCHEDULE_S:
                return self._fail(_error(100, "The specified scheduled publish time is invalid.", 400, 1363003))
        if edge == "photos" and not form.get("url"):
            return self._fail(_error(100, "(#100) No photo url was given", 400))
        if edge == "feed" and not (form.get("message") or form.get("link")):
            return self._fail(_error(100, "(#100) Either message or link must be given", 400))
        post_id = f"{page_id}_{secrets.randbelow(10**15)}"
        with self.lock:
            self.posts[post_id] = {"edge": edge, **{k: str(v) for k, v in form.items()}, "is_published": published}
        return self._answer({"id": post_id, **({"post_id": post_id} if edge == "photos" else {})})

    async def ig_media(self, request: Request) -> Response:
        """Instagram's first step: a media container for an image (IG has no text-only posts)."""
        ig = request.path_params["ig_id"]
        if denied := self._page(request, self._page_of(ig)):
            return denied
        form = await _form(request)
        if not form.get("image_url"):
            return self._fail(_error(100, "(#100) The parameter image_url is required", 400))
        container = str(secrets.randbelow(10**16))
        with self.lock:
            self.containers[container] = {"ig": ig, **form}
        return self._answer({"id": container})

    async def ig_publish(self, request: Request) -> Response:
        ig = request.path_params["ig_id"]
        if denied := self._page(request, self._page_of(ig)):
            return denied
        form = await _form(request)
        with self.lock:
            container = self.containers.pop(form.get("creation_id", ""), None)
            if container is None or container["ig"] != ig:
                return self._fail(_error(9004, "Media ID is not available", 400))
            media_id = str(secrets.randbelow(10**16))
            self.posts[media_id] = {"edge": "instagram", "page": self.instagram[ig], **container, "is_published": True}
        return self._answer({"id": media_id})

    async def recent(self, request: Request) -> Response:
        """A page's feed (its published posts) or its scheduled posts (not yet published: Graph lists them only
        there), or an Instagram account's media: newest first."""
        object_id = request.path_params["page_id"]
        if denied := self._page(request, self._page_of(object_id)):
            return denied
        instagram = object_id in self.instagram
        scheduled = request.url.path.endswith("/scheduled_posts")
        mine = [
            (pid, p)
            for pid, p in self.posts.items()
            if (
                p.get("ig") == object_id
                if instagram
                else pid.split("_", 1)[0] == object_id and p["is_published"] != scheduled
            )
        ]
        data = [
            {"id": pid, "caption": p.get("caption", "")}
            if instagram
            else {"id": pid, "message": p.get("message", p.get("caption", ""))}
            for pid, p in reversed(mine)
        ]
        return self._answer({"data": data[: int(request.query_params.get("limit", "25"))]})

    async def post_comments(self, request: Request) -> Response:
        post_id = request.path_params["post_id"]
        if denied := self._page(request, self._page_of(post_id)):
            return denied
        instagram = self.posts.get(post_id, {}).get("edge") == "instagram"
        data = [
            {"id": cid, "text": c["message"], "username": c["from"]["name"], "hidden": c["is_hidden"]}
            if instagram
            else {"id": cid, "message": c["message"], "from": c["from"], "is_hidden": c["is_hidden"]}
            for cid, c in self.comments.items()
            if c["post_id"] == post_id
        ]
        return self._answer({"data": data})

    async def comment(self, request: Request) -> Response:
        comment_id = request.path_params["comment_id"]
        comment = self.comments.get(comment_id)
        page_id = self._page_of(comment["post_id"]) if comment else ""
        if denied := self._page(request, page_id or "unknown"):
            return denied
        assert comment is not None
        if request.method == "DELETE":
            with self.lock:
                del self.comments[comment_id]
            return self._answer({"success": True})
        form = await _form(request)
        with self.lock:  # Facebook's parameter is is_hidden, Instagram's hide
            comment["is_hidden"] = str(form.get("is_hidden", form.get("hide", "false"))).lower() == "true"
        return self._answer({"success": True})

    async def insights(self, request: Request) -> Response:
        page_id = request.path_params["page_id"]
        if denied := self._page(request, self._page_of(page_id)):
            return denied
        q = request.query_params
        metrics = [m for m in q.get("metric", "").split(",") if m]
        if not metrics or q.get("period") != "day":
            return self._fail(_error(100, "(#100) metric and period=day are required", 400))
        since, until = int(q.get("since", "0")), int(q.get("until", "0"))
        days = [since + i * 86400 for i in range(max(0, (until - since) // 86400))]
        data = [
            {
                "name": m,
                "period": "day",
                "values": [
                    {"value": 100 + i * 7 + len(m), "end_time": time.strftime("%Y-%m-%dT08:00:00+0000", time.gmtime(d))}
                    for i, d in enumerate(days)
                ],
            }
            for m in metrics
        ]
        return self._answer({"data": data})

    # -- what people do -----------------------------------------------------------------------------------------

    def someone_comments(self, post_id: str, message: str, author: str = "A follower") -> str:
        comment_id = f"{post_id.split('_', 1)[-1]}_{secrets.randbelow(10**9)}"
        with self.lock:
            self.comments[comment_id] = {
                "post_id": post_id,
                "message": message,
                "from": {"name": author},
                "is_hidden": False,
            }
        return comment_id

    def api_routes(self) -> list[Route]:
        return [
            Route("/graph/me", self.me),
            Route("/graph/me/accounts", self.accounts),
            Route("/graph/{page_id:str}", self.page, methods=["GET"]),
            Route("/graph/{page_id:str}/insights", self.insights),
            Route("/graph/{post_id:str}/comments", self.post_comments),
            Route("/graph/{page_id:str}/feed", self.recent, methods=["GET"]),
            Route("/graph/{page_id:str}/scheduled_posts", self.recent, methods=["GET"]),
            Route("/graph/{page_id:str}/media", self.recent, methods=["GET"]),
            Route("/graph/{ig_id:str}/media", self.ig_media, methods=["POST"]),
            Route("/graph/{ig_id:str}/media_publish", self.ig_publish, methods=["POST"]),
            Route("/graph/{page_id:str}/{edge:str}", self.publish, methods=["POST"]),
            Route("/graph/{comment_id:str}", self.comment, methods=["POST", "DELETE"]),
        ]
