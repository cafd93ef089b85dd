from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import model_validator

from shared.schemas import LongText, Out, Schema, examples

PHASES = {"pdca": ("plan", "do", "check", "act"), "dr": ("do", "review")}


class ReviewIn(Schema):
    """A PDCA or DR review of the campaign: the phase, what was found and what will be done."""

    model_config = examples(
        {
            "loop": "pdca",
            "phase": "check",
            "findings": "CTR 4 % but CPA 14 USD, above the 10 USD target.",
            "actions": "Pause broad-match keywords; test a new landing page.",
        }
    )

    loop: Literal["pdca", "dr"]
    """`pdca` (plan, do, check, act) or `dr` (do, review)."""
    phase: Literal["plan", "do", "check", "act", "review"]
    """The loop's phase: `plan`, `do`, `check`, `act` (pdca) or `do`, `review` (dr)."""
    findings: LongText
    """What was found."""
    actions: LongText
    """What will be done about it."""

    @model_validator(mode="after")
    def _phase_of_loop(self) -> ReviewIn:
        if self.phase not in PHASES[self.loop]:
            raise ValueError(f"a {self.loop} review has phases {', '.join(PHASES[self.loop])}")
        return self


class ReviewOut(Out):
    id: str
    """The object's id (a UUID), as used in its path."""
    campaign_id: str
    """The campaign reviewed."""
    loop: str
    """`pdca` or `dr`."""
    phase: str
    """The loop's phase."""
    findings: str
    """What was found."""
    actions: str
    """What will be done."""
    snapshot: dict[str, Any]
    """The campaign's performance when the review was written (totals, KPIs, pacing), kept as it was."""
    created_at: datetime
    """When the object was created (RFC 3339, UTC)."""
