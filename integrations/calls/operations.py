"""The declaration of an outbound call: an operation the platform asks for once and must not wait for (a relayed
message, a social post, an ADAMS notification, an insurance enrolment), run by the outbound-calls queue function.

One `CallOperation` says what it takes (a pydantic model of its arguments), the adapter Protocol it needs (the
provider's catalog entry lists the operation by name when its adapter has it), the document capability flags
that switch it on, how to run it, and how to look up an attempt whose outcome is unknown (a crash after the
provider acted and before the hub recorded it) — or that repeating it is safe, because the provider dedupes on
the key the hub sends. `CALLS` is the registry; the API's operation enum and checks derive from it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from adapters import capabilities as can
from canonical.messages import Message
from integrations.documents.document import IntegrationDocument

# adapter (satisfying the Protocol), the validated arguments, the call's key → the provider's result.
Run = Callable[[Any, Any, str], dict[str, Any]]
# The same, for a lookup: the result when the provider already has it, else None.
Find = Callable[[Any, Any, str], dict[str, Any] | None]


@dataclass(frozen=True)
class CallOperation:
    name: str
    args: type[BaseModel]
    requires: type  # the adapters.capabilities Protocol
    run: Run
    find: Find | None  # None: repeating the call is safe (the provider dedupes on the call's key)
    description: str
    flags: tuple[str, ...] = ()  # document capability flags: offered when any is on (none: always)
    families: frozenset[str] | None = None

    def offered_to(self, document: IntegrationDocument, capabilities: Collection[str]) -> bool:
        if self.name not in capabilities or (self.families is not None and document.family not in self.families):
            return False
        return not self.flags or any(getattr(document.capabilities, flag, False) for flag in self.flags)


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RelayMessage(_Args):
    to: Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")]
    body: Annotated[str, StringConstraints(min_length=1, max_length=1600)]
    channel: Literal["sms", "whatsapp"] = "sms"


def _message(args: RelayMessage, key: str) -> Message:
    return Message(key=key, to=args.to, body=args.body, channel=args.channel)


def _relay(adapter: can.MessageSend, args: RelayMessage, key: str) -> dict[str, Any]:
    return {"message_sid": adapter.send_message(_message(args, key))}


def _find_relayed(adapter: can.MessageSend, args: RelayMessage, key: str) -> dict[str, Any] | None:
    sid = adapter.find_message(_message(args, key))  # Twilio takes no idempotency key: same recipient and body today
    return {"message_sid": sid} if sid else None


class AdamsNotification(_Args):
    athlete_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
    kind: Literal["retirement", "return_to_competition", "unavailability", "whereabouts_change"]
    effective_on: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    note: Annotated[str, StringConstraints(max_length=500)] = ""


def _relay_adams(adapter: can.AdamsNotifications, args: AdamsNotification, key: str) -> dict[str, Any]:
    return {"notification_id": adapter.put_notification(args.model_dump(), key)}


def _registry(*operations: CallOperation) -> dict[str, CallOperation]:
    return {op.name: op for op in operations}


# Every outbound call, declared once. Adding one = a declaration here + the adapter methods of its Protocol (and
# the name in the catalog entries of the providers whose adapters have them).
CALLS: dict[str, CallOperation] = _registry(
    CallOperation(
        "relay_message",
        RelayMessage,
        can.MessageSend,
        _relay,
        _find_relayed,
        "Send one SMS/WhatsApp message now (a relay: the caller does not wait for Twilio).",
        flags=("sms", "whatsapp"),
    ),
    CallOperation(
        "relay_adams_notification",
        AdamsNotification,
        can.AdamsNotifications,
        _relay_adams,
        None,  # a PUT by the call's key: ADAMS keeps one notification per key
        "Relay a notification about an athlete to ADAMS (retirement, unavailability…), once per key.",
        flags=("notification_relay",),
        families=frozenset({"wada_adams"}),
    ),
)


def offered_calls(document: IntegrationDocument, capabilities: Collection[str]) -> list[CallOperation]:
    return [op for op in CALLS.values() if op.offered_to(document, capabilities)]
