"""Twilio: Basic SID:token (error 20003), Messages.json sends and lists."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devfakes.keyed.base import GOOD, KeyedBase, guarded


@dataclass
class TwilioFake(KeyedBase):
    twilio_sent: list[dict[str, Any]] = field(default_factory=list)
    # Faults for the next message POSTs, one each: "down" answers 502 and sends nothing; "lost" sends the
    # message and answers 502 anyway (the answer lost on the way back: the sender cannot know it was sent).
    twilio_faults: list[str] = field(default_factory=list)

    def routes(self) -> list[Route]:
        return [
            Route("/twilio/2010-04-01/Accounts/{sid}.json", self.twilio),
            Route("/twilio/2010-04-01/Accounts/{sid}/Messages.json", self.twilio_messages, methods=["GET", "POST"]),
        ]

    def _twilio_refused(self, request: Request) -> Response | None:
        expected = base64.b64encode(f"{GOOD['twilio_sid']}:{GOOD['twilio']}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}" or request.path_params["sid"] != GOOD["twilio_sid"]:
            return JSONResponse(
                {
                    "code": 20003,
                    "message": "Authenticate",
                    "more_info": "https://www.twilio.com/docs/errors/20003",
                    "status": 401,
                },
                status_code=401,
            )
        return None

    @guarded("twilio", _twilio_refused)
    async def twilio_messages(self, request: Request) -> Response:
        if request.method == "GET":
            q = request.query_params
            found = [m for m in self.twilio_sent if m["to"] == q.get("To")]
            return JSONResponse({"messages": found, "next_page_uri": None})
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        to = form.get("To", "")
        if not to.removeprefix("whatsapp:").startswith("+") or not to.removeprefix("whatsapp:")[1:].isdigit():
            return JSONResponse(
                {"code": 21211, "message": f"The 'To' number {to} is not a valid phone number.", "status": 400}, 400
            )
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return JSONResponse({"code": 21603, "message": "A 'From' phone number is required.", "status": 400}, 400)
        message = {
            "sid": f"SM{uuid.uuid4().hex}",
            "to": to,
            "from": form.get("From"),
            "body": form.get("Body"),
            "status": "queued",
            "status_callback": form.get("StatusCallback"),
            "date_created": datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000"),
        }
        with self.lock:
            fault = self.twilio_faults.pop(0) if self.twilio_faults else None
            if fault != "down":
                self.twilio_sent.append(message)
        if fault:
            return JSONResponse({"code": 20500, "message": "An internal server error has occurred", "status": 502}, 502)
        return JSONResponse(message, status_code=201)

    @guarded("twilio", _twilio_refused)
    async def twilio(self, request: Request) -> Response:
        return JSONResponse({"sid": GOOD["twilio_sid"], "status": "active", "type": "Trial"})
