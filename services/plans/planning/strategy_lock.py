"""The strategy lock: the strategic layer holds "for a considerable period". Activating a plan locks its strategy
up to and including ``strategy_locked_until`` (the period end by default); while locked, a write to the strategic
layer (environment factors, SWOT, segments, targeting, positioning, the lock date itself) needs
``override_reason``, only an executive or admin may give one, and the write lands in the audit as an override.

The write guard (:func:`services.plans.planning.service.open_for_write`) asks :func:`check_lock` for every write
of the ``strategic`` layer; the strategic routes take their writers and their 409 description from here."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from services.plans.planning.models import Plan
from shared.auth import Principal
from shared.errors import Conflict, Forbidden

#: who writes the strategic layer (admins always may) and who may override its lock
STRATEGISTS = ("executive",)
#: the answer a strategic write documents when the lock refuses it
LOCKED: dict[int | str, dict[str, Any]] = {
    409: {"description": "plan archived, or strategy locked and no override_reason given"}
}


def today() -> date:
    return datetime.now(UTC).date()


def strategy_locked(plan: Plan, on: date) -> bool:
    """Locked up to and including the date, while the plan is active."""
    return plan.status == "active" and plan.strategy_locked_until is not None and on <= plan.strategy_locked_until


def check_lock(plan: Plan, principal: Principal, override_reason: str | None) -> bool:
    """Raise unless a strategic write may go ahead; True when it goes ahead as an override of the lock."""
    if not strategy_locked(plan, today()):
        return False
    if not override_reason or not override_reason.strip():
        raise Conflict(
            f"the strategy of plan {plan.id} is locked until {plan.strategy_locked_until}; an executive or admin "
            "may change it by giving override_reason",
            strategy_locked_until=str(plan.strategy_locked_until),
        )
    if not principal.has("executive"):
        raise Forbidden("only an executive or admin may override the strategy lock")
    return True
