"""What a sync operation reports back to its run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

MAX_ERRORS = 20


@dataclass
class Progress:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    pulled: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)  # the first MAX_ERRORS record errors
    reason: str = ""  # a note for the run (e.g. which delivery path was taken)

    def fail(self, key: str, message: str) -> None:
        self.failed += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"key": key, "message": message})


class Heartbeat(Protocol):
    """Called by an operation between units of work: proves the run is alive (raises if it lost the
    integration to another run) and, given the progress so far, checkpoints it into the run record."""

    def __call__(self, progress: Progress | None = None) -> None: ...
