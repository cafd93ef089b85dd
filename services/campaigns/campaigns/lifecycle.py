"""The campaign lifecycle: draft → scheduled → running ⇄ paused → completed; cancelled from any state
before completed. A scheduled campaign may also be paused (held before it starts; this is what a retired
SBU does to it). Pure rules, no I/O."""

from __future__ import annotations

STATUSES = ("draft", "scheduled", "running", "paused", "completed", "cancelled")

TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"scheduled", "cancelled"}),
    "scheduled": frozenset({"running", "paused", "cancelled"}),
    "running": frozenset({"paused", "completed", "cancelled"}),
    "paused": frozenset({"running", "completed", "cancelled"}),
    "completed": frozenset(),
    "cancelled": frozenset(),
}


def can_move(current: str, to: str) -> bool:
    return to in TRANSITIONS.get(current, frozenset())


def allowed_moves(current: str) -> list[str]:
    return sorted(TRANSITIONS.get(current, frozenset()))
