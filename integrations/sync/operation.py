"""The declaration of a sync operation, and which operations an integration is offered.

One `Operation` says everything the rest of the hub needs to know: which way it moves records, the outbox
record kind it delivers, the families it belongs to, the document capability flags that switch it on, the
adapter Protocol it needs (the catalog entry lists the operation by name when its adapter has it), whether it
is the read a provider's change notification calls for, and whether its schedule is the document's own. The
registry of declarations is `integrations.sync.operations.OPERATIONS`; the API's operation enums, the intake
routes' checks, the schedules and the webhook-driven reads all derive from it."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from integrations.documents.document import IntegrationDocument
from integrations.sync.members import MemberMirror
from integrations.sync.outbox import Outbox
from integrations.sync.progress import Heartbeat, Progress
from integrations.sync.state import SyncState


class Kind(StrEnum):
    push = "push"  # outbox records to the provider: offered when sync_direction is push or bidirectional
    pull = "pull"  # the provider's changes to events: offered when sync_direction is pull or bidirectional
    sync = "sync"  # both ways in one run (members): the operation honours sync_direction itself
    export = "export"  # outbox records to a one-way destination (a file, an export endpoint): any direction


# The sync_direction values (documents' config) under which an operation of a kind is offered.
DIRECTIONS: dict[Kind, frozenset[str]] = {
    Kind.push: frozenset({"push", "bidirectional"}),
    Kind.pull: frozenset({"pull", "bidirectional"}),
}


@dataclass
class SyncEnv:
    """What a run gives its operation besides adapter, outbox and document (each operation uses its part)."""

    heartbeat: Heartbeat
    state: SyncState  # cursors and what a pull has seen: one store, every pull's
    emit: Callable[[dict[str, Any]], None]
    started_at: datetime  # the run's start: no timestamp cursor is stored beyond it (signpost)
    run_id: str = ""
    write_file: Callable[[str, bytes], None] | None = None
    mirror: MemberMirror | None = None


# adapter (satisfying the operation's Protocol), outbox, document, env → what the run did.
Run = Callable[[Any, Outbox, Any, SyncEnv], Progress]


@dataclass(frozen=True)
class Operation:
    name: str
    kind: Kind
    record: str  # the outbox record kind it delivers, or the kind of thing it pulls
    run: Run
    requires: type  # the adapters.capabilities Protocol the adapter must satisfy
    description: str
    flags: tuple[str, ...] = ()  # document capability flags: offered when any is on (none: always)
    families: frozenset[str] | None = None  # only for these families (a multi-family provider's own ops)
    on_change: bool = False  # the read a provider's "something changed" notification calls for
    own_schedule: str = ""  # the document field its schedule follows ("" = scheduled through the API)

    def offered_to(self, document: IntegrationDocument, capabilities: Collection[str]) -> bool:
        """Whether this integration may run it: the provider's catalog entry lists it, the family is one of
        its families, a flag of it is on, and the integration's sync direction includes its direction."""
        if self.name not in capabilities or (self.families is not None and document.family not in self.families):
            return False
        flags = document.capabilities
        if self.flags and not any(getattr(flags, flag, False) for flag in self.flags):
            return False
        direction = str(getattr(document.config, "sync_direction", "bidirectional"))
        return direction in DIRECTIONS.get(self.kind, frozenset({direction}))

    @property
    def delivers(self) -> bool:
        """Whether it takes records the platform hands in (push, export, both-ways sync)."""
        return self.kind is not Kind.pull
