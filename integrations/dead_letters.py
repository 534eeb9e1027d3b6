"""Dead letters: what the queue functions failed on, with every attempt's error, kept until replayed.

The Functions host moves a message that failed `maxDequeueCount` times to `<queue>-poison` as it was, with
no error, no attempt history and a new id. So each queue function records its own failures here as they
happen (one row per message: the original body and id, each attempt's error, redacted), and the last one
marks the row `dead`. The API lists a tenant's dead letters and replays one: the row is claimed (`replayed`,
ETag-checked, so two replays make one) and the kind's own replay action runs (if it fails, the letter is
dead again) (a sync job becomes a new run;
the webhooks issue adds deliveries on the same rows).

Rows: `PartitionKey = <tenant>|<integration>`, `RowKey = <kind>|<message id>`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from integrations.documents.ref import IntegrationRef, OfIntegration
from shared.errors import Conflict, NotFound, PreconditionFailed
from shared.redaction import REDACTOR
from shared.rows import ClockedStore, Row, in_partition

MAX_ATTEMPTS_KEPT = 20
ERROR_LIMIT = 500


class LetterStatus(StrEnum):
    retrying = "retrying"  # failed, the queue will deliver it again
    dead = "dead"  # failed its last attempt: in the poison queue, waiting for a replay
    replayed = "replayed"


class Attempt(BaseModel):
    at: datetime
    dequeue_count: int
    error_type: str = Field(description="The exception's class, e.g. ProviderError.")
    error: str = Field(description="What failed (provider text redacted and bounded).")


class DeadLetter(BaseModel, OfIntegration):
    id: str = Field(description="The queue message's id.")
    kind: str = Field(description="Which queue function: sync_jobs, webhook_events, alert_webhooks.")
    tenant_id: str
    integration_id: str
    status: LetterStatus
    message: dict[str, Any] = Field(description="The original message body.")
    attempts: list[Attempt] = Field(default_factory=list, description="Each failed attempt, oldest first.")
    first_failed_at: datetime
    dead_at: datetime | None = None
    replayed_at: datetime | None = None
    replayed_as: str | None = Field(None, description="What the replay produced (a sync job: the new run's id).")


class LetterRow(Row):
    status: LetterStatus = Field(alias="Status")
    body: str = Field(alias="Body")

    def letter(self) -> DeadLetter:
        return DeadLetter.model_validate_json(self.body)


class DeadLetters(ClockedStore[LetterRow]):
    row_type = LetterRow

    def _write(self, letter: DeadLetter, *, etag: str | None) -> str:
        pk, rk = self._keys(letter.ref, letter.kind, letter.id)
        row = LetterRow(partition=pk, row=rk, status=letter.status, body=letter.model_dump_json())
        return self._rows.insert(row) if etag is None else self._rows.replace(row, etag=etag)

    @staticmethod
    def _keys(ref: IntegrationRef, kind: str, message_id: str) -> tuple[str, str]:
        return ref.partition, f"{kind}|{message_id}"

    def failed(
        self,
        *,
        kind: str,
        message_id: str,
        message: dict[str, Any],
        dequeue_count: int,
        error: BaseException,
        final: bool,
    ) -> DeadLetter:
        """Record one failed attempt (the last one when `final`)."""
        tenant, integration = str(message.get("tenant_id") or "-"), str(message.get("integration_id") or "-")
        pk, rk = self._keys(IntegrationRef(tenant, integration), kind, message_id)
        attempt = Attempt(
            at=self._now(),
            dequeue_count=dequeue_count,
            error_type=type(error).__name__,
            error=REDACTOR.excerpt(str(getattr(error, "detail", None) or error), ERROR_LIMIT),
        )
        for _ in range(10):
            found = self._rows.find(pk, rk)
            if found:
                letter, etag = found[0].letter(), found[1]
            else:
                letter, etag = (
                    DeadLetter(
                        id=message_id,
                        kind=kind,
                        tenant_id=tenant,
                        integration_id=integration,
                        status=LetterStatus.retrying,
                        message=message,
                        first_failed_at=attempt.at,
                    ),
                    None,
                )
            letter.attempts = [*letter.attempts, attempt][-MAX_ATTEMPTS_KEPT:]
            if final:
                letter.status, letter.dead_at = LetterStatus.dead, attempt.at
            try:
                self._write(letter, etag=etag)
                return letter
            except (Conflict, PreconditionFailed):
                continue
        raise Conflict(f"dead letter {rk} is too contended")

    def list(self, ref: IntegrationRef, *, kind: str, status: LetterStatus | None) -> list[DeadLetter]:
        flt, params = in_partition(ref.partition, row_prefix=f"{kind}|", status=status and status.value)
        return [row.letter() for row in self._rows.query(flt, parameters=params)]

    def replay(self, ref: IntegrationRef, *, kind: str, message_id: str, action: Callable[[DeadLetter], str]) -> DeadLetter:
        """Claim a dead letter for replay, then run `action` (→ what it produced). A letter still retrying or
        already replayed is a 409; of two concurrent replays one wins."""
        pk, rk = self._keys(ref, kind, message_id)
        found = self._rows.find(pk, rk)
        if found is None:
            raise NotFound(f"No dead letter {message_id}.")
        letter, etag = found[0].letter(), found[1]
        if letter.status != LetterStatus.dead:
            raise Conflict(
                f"Dead letter {message_id} is {letter.status}; only dead letters are replayed.", reason="not_dead"
            )
        letter.status, letter.replayed_at = LetterStatus.replayed, self._now()
        try:
            etag = self._write(letter, etag=etag)
        except PreconditionFailed:
            raise Conflict(f"Dead letter {message_id} is being replayed already.", reason="replaying") from None
        try:
            letter.replayed_as = action(letter)
        except Exception:
            # The replay did not happen (e.g. the integration is paused): the letter stays dead, to be replayed later.
            letter.status, letter.replayed_at = LetterStatus.dead, None
            self._write(letter, etag=etag)
            raise
        self._write(letter, etag=etag)
        return letter
