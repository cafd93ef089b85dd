from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import model_validator

from shared.schemas import LongText, Out, Schema

PHASES = {"pdca": ("plan", "do", "check", "act"), "dr": ("do", "review")}


class ReviewIn(Schema):
    """A PDCA or DR review of the campaign: the phase, what was found and what will be done."""

    loop: Literal["pdca", "dr"]
    phase: Literal["plan", "do", "check", "act", "review"]
    findings: LongText
    actions: LongText

    @model_validator(mode="after")
    def _phase_of_loop(self) -> ReviewIn:
        if self.phase not in PHASES[self.loop]:
            raise ValueError(f"a {self.loop} review has phases {', '.join(PHASES[self.loop])}")
        return self


class ReviewOut(Out):
    id: str
    campaign_id: str
    loop: str
    phase: str
    findings: str
    actions: str
    snapshot: dict[str, Any]
    created_at: datetime
