"""Lifecycle rules: which transitions exist and what each needs."""

from __future__ import annotations

from enum import StrEnum

from integrations.documents.common import LifecycleStatus as S


class Transition(StrEnum):
    activate = "activate"
    pause = "pause"
    resume = "resume"
    decommission = "decommission"


_TABLE: dict[Transition, tuple[frozenset[S], S]] = {
    Transition.activate: (frozenset({S.draft}), S.active),
    Transition.pause: (frozenset({S.active}), S.paused),
    Transition.resume: (frozenset({S.paused}), S.active),
    Transition.decommission: (frozenset({S.draft, S.active, S.paused}), S.decommissioned),
}

# Transitions that put the integration into service need a passing validation of the current config.
NEEDS_VALIDATION = frozenset({Transition.activate, Transition.resume})


def allowed_from(status: S) -> list[str]:
    return [t.value for t, (sources, _) in _TABLE.items() if status in sources]


def target(transition: Transition, status: S) -> S | None:
    """The status after `transition`, or None when it is not allowed from `status`."""
    sources, to = _TABLE[transition]
    return to if status in sources else None


def editable(status: S) -> bool:
    """Configuration may change in draft and paused; active accepts display_name only; decommissioned nothing."""
    return status in (S.draft, S.paused)
