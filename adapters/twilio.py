"""Twilio (messaging, seed 004). Basic auth with the Account SID and auth token; messages are form-encoded
POSTs to `/Accounts/{sid}/Messages.json` from the configured sender or Messaging Service, with the hub's
status-callback URL when it is HTTPS. Twilio has no idempotency key for messages, so a message whose outcome
is unknown is looked up (same recipient, same body, sent today) before it is sent again."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.base import Adapter
from canonical.messages import Message
from integrations.documents.document import MessagingIntegration
from shared.errors import ProviderError

# A message's statuses in the order Twilio moves through them; callbacks may arrive out of order, so a status
# never replaces a later one (the three final ones rank alike: whichever came first stands).
STATUS_ORDER = ("accepted", "scheduled", "queued", "sending", "sent", "delivered", "undelivered", "failed", "read")
FINAL = {"delivered": 6, "undelivered": 6, "failed": 6, "read": 7, "canceled": 6}


def status_rank(status: str) -> int:
    if status in FINAL:
        return FINAL[status]
    return STATUS_ORDER.index(status) if status in STATUS_ORDER else -1


class TwilioAdapter(Adapter[MessagingIntegration]):
    @property
    def _messages(self) -> str:
        return f"/Accounts/{self.document.config.account_sid}/Messages.json"

    @staticmethod
    def address(message: Message) -> str:
        return f"whatsapp:{message.to}" if message.channel == "whatsapp" else message.to

    def find_message(self, message: Message) -> str | None:
        today = datetime.now(UTC).date().isoformat()
        data = self.request(
            "GET",
            self._messages,
            operation="sync.lookup",
            params={"To": self.address(message), "DateSent>": today, "PageSize": 50},
        ).json()
        found = [m for m in data.get("messages", []) if m.get("body") == message.body]
        return found[0]["sid"] if found else None

    def send_message(self, message: Message) -> str:
        config, capabilities = self.document.config, self.document.capabilities
        channel = message.channel
        if not getattr(capabilities, channel, False):
            raise ProviderError(detail=f"the {channel} capability is off for this integration", provider="twilio")
        form = {"To": self.address(message), "Body": message.body}
        if config.messaging_service_sid:
            form["MessagingServiceSid"] = config.messaging_service_sid
        elif config.default_sender:
            form["From"] = f"whatsapp:{config.default_sender}" if channel == "whatsapp" else config.default_sender
        else:
            raise ProviderError(detail="no sender: set default_sender or messaging_service_sid", provider="twilio")
        if capabilities.status_callbacks and (self.ctx.callback_url or "").startswith("https://"):
            form["StatusCallback"] = self.ctx.callback_url or ""
        data = self.request("POST", self._messages, operation="sync.send_message", data=form).json()
        return str(data["sid"])
