"""Keeping the latest computed customer status, and showing it on a plan: as a computed status snapshot, beside
the SBU grid, in the report and in readiness."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.contracts import CustomersSummaryChanged
from services.plans.customer_status.models import CustomerStatus
from services.plans.customer_status.schemas import CustomerStatusOut
from services.plans.execution.schemas import SnapshotOut, SnapshotWindow
from services.plans.planning.models import Plan
from services.plans.planning.schemas import Finding
from shared.db import new_id


async def apply_summary(session: AsyncSession, org_id: str, summary: CustomersSummaryChanged) -> bool:
    """Keep the newest summary of the organisation; False for one computed before the stored one."""
    row = await session.get(CustomerStatus, org_id, with_for_update=True)
    if row is not None and row.computed_at >= summary.computed_at:
        return False
    if row is None:
        row = CustomerStatus(org_id=org_id, id=new_id())
        session.add(row)
    row.computed_at = summary.computed_at
    row.window_start, row.window_end = summary.window.start, summary.window.end
    row.customer_count = summary.customers
    row.repurchase_rate = summary.repurchase_rate
    row.summary = summary.model_dump(mode="json", by_alias=True)
    await session.flush()
    return True


def plan_activity(row: CustomerStatus, plan_id: str) -> Decimal | None:
    """Members of this plan's tiers with a recent order / members (null without members)."""
    tiers = [t for t in row.summary.get("tiers", []) if t.get("plan_id") == plan_id]
    members = sum(int(t["members"]) for t in tiers)
    if not members:
        return None
    return (Decimal(sum(int(t["active_members"]) for t in tiers)) / members).quantize(Decimal("0.0001"))


async def computed_snapshots(session: AsyncSession, plan: Plan) -> list[Any]:
    """The organisation's computed status as a snapshot of this plan (none until compliance announced one)."""
    row = await session.get(CustomerStatus, plan.org_id)
    if row is None:
        return []
    return [
        SnapshotOut(
            id=row.id,
            plan_id=plan.id,
            as_of=row.computed_at.date(),
            customer_count=row.customer_count,
            repurchase_rate=row.repurchase_rate,
            member_activity_rate=plan_activity(row, plan.id),
            notes="computed from the orders customs released (returns taken out)",
            created_at=row.computed_at,
            source="computed",
            window=SnapshotWindow(start=row.window_start, end=row.window_end),
            computed_at=row.computed_at,
        )
    ]


async def customer_status(session: AsyncSession, plan: Plan) -> CustomerStatusOut | None:
    row = await session.get(CustomerStatus, plan.org_id)
    if row is None:
        return None
    s = row.summary
    return CustomerStatusOut(
        computed_at=row.computed_at,
        window_from=row.window_start,
        window_to=row.window_end,
        customers=row.customer_count,
        new_customers=int(s.get("new_customers", 0)),
        returning_customers=int(s.get("returning_customers", 0)),
        repurchase_rate=row.repurchase_rate,
        member_activity_rate=plan_activity(row, plan.id),
        orders=int(s.get("orders", 0)),
        stages={k: int(v) for k, v in (s.get("stages") or {}).items()},
        min_repurchase_rate=plan.min_repurchase_rate,
    )


def repurchase_findings(plan: Plan, status: CustomerStatusOut | None) -> list[Finding]:
    """A warning when the computed repurchase rate is below the threshold the plan sets."""
    threshold, rate = plan.min_repurchase_rate, status.repurchase_rate if status else None
    if threshold is None or rate is None or rate >= threshold:
        return []
    return [
        Finding(
            code="repurchase_rate_below_threshold",
            severity="warning",
            message=f"the repurchase rate computed from released orders is {rate:.4f}, below the plan's "
            f"threshold {threshold:.4f}",
            ref={"type": "plan", "id": plan.id},
        )
    ]


async def plan_customer_findings(session: AsyncSession, plan: Plan) -> list[Finding]:
    return repurchase_findings(plan, await customer_status(session, plan))
