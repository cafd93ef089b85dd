"""The strategic layer: environment → SWOT (with TOWS pairings) → segments → targeting → positioning."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.planning.children import ChildKind, flush_or_conflict, load_plan
from services.plans.planning.models import Plan
from services.plans.planning.service import audit, open_for_write
from services.plans.planning.strategy_lock import STRATEGISTS
from services.plans.strategy.models import EnvironmentFactor, Positioning, Segment, SwotItem
from services.plans.strategy.schemas import (
    FactorIn,
    FactorOut,
    FactorPatch,
    PositioningIn,
    PositioningOut,
    SegmentIn,
    SegmentOut,
    SegmentPatch,
    SwotItemIn,
    SwotItemOut,
    SwotItemPatch,
    TargetingIn,
    TargetingOut,
)
from shared.auth import Principal
from shared.db import scoped
from shared.errors import FieldError, NotFound
from shared.etag import Precondition

MAX_PER_QUADRANT = 50
#: TOWS: which internal quadrant pairs with which external one
TOWS = {
    "so": ("strength", "opportunity"),
    "st": ("strength", "threat"),
    "wo": ("weakness", "opportunity"),
    "wt": ("weakness", "threat"),
}


async def check_swot_item(session: AsyncSession, plan: Plan, item: SwotItem) -> None:
    if item.factor_id is not None:
        factor = await session.scalar(
            scoped(EnvironmentFactor, plan.org_id).where(
                EnvironmentFactor.id == item.factor_id, EnvironmentFactor.plan_id == plan.id
            )
        )
        if factor is None:
            raise FieldError("factor_id", f"environment factor {item.factor_id} is not in this plan")
    count = await session.scalar(
        select(func.count())
        .select_from(SwotItem)
        .where(SwotItem.plan_id == plan.id, SwotItem.quadrant == item.quadrant, SwotItem.id != (item.id or ""))
    )
    if (count or 0) >= MAX_PER_QUADRANT:
        raise FieldError("quadrant", f"a SWOT quadrant holds at most {MAX_PER_QUADRANT} items")


FACTORS = ChildKind(
    "environment-factors",
    "environment_factor",
    EnvironmentFactor,
    FactorIn,
    FactorPatch,
    FactorOut,
    "strategic",
    STRATEGISTS,
    tag="strategic layer",
)
SWOT_ITEMS = ChildKind(
    "swot-items",
    "swot_item",
    SwotItem,
    SwotItemIn,
    SwotItemPatch,
    SwotItemOut,
    "strategic",
    STRATEGISTS,
    check=check_swot_item,
    tag="strategic layer",
)
SEGMENTS = ChildKind(
    "segments", "segment", Segment, SegmentIn, SegmentPatch, SegmentOut, "strategic", STRATEGISTS, tag="strategic layer"
)


@dataclass(frozen=True)
class Pair:
    internal: Any
    external: Any
    score: Decimal


def tows_pairings(items: list[Any]) -> dict[str, list[Pair]]:
    """Every internal × external pairing per TOWS cell, strongest (product of weights) first."""
    by_quadrant: dict[str, list[Any]] = {q: [] for q in ("strength", "weakness", "opportunity", "threat")}
    for item in items:
        by_quadrant[item.quadrant].append(item)
    pairings: dict[str, list[Pair]] = {}
    for cell, (internal, external) in TOWS.items():
        pairs = [Pair(i, e, i.weight * e.weight) for i in by_quadrant[internal] for e in by_quadrant[external]]
        pairings[cell] = sorted(pairs, key=lambda p: -p.score)
    return pairings


async def swot_matrix(session: AsyncSession, principal: Principal, plan_id: str) -> dict[str, Any]:
    await load_plan(session, principal, plan_id)
    rows = (
        (
            await session.execute(
                scoped(SwotItem, principal.org_id)
                .where(SwotItem.plan_id == plan_id)
                .order_by(SwotItem.weight.desc(), SwotItem.created_at)
            )
        )
        .scalars()
        .all()
    )
    items = [SwotItemOut.model_validate(r) for r in rows]
    matrix: dict[str, Any] = {
        name: [i for i in items if i.quadrant == quadrant]
        for name, quadrant in (
            ("strengths", "strength"),
            ("weaknesses", "weakness"),
            ("opportunities", "opportunity"),
            ("threats", "threat"),
        )
    }
    matrix["quadrants"] = {
        q: [i for i in items if i.quadrant == q] for q in ("strength", "weakness", "opportunity", "threat")
    }
    for cell, pairs in tows_pairings(items).items():
        matrix[cell] = [{"internal": p.internal, "external": p.external, "score": p.score} for p in pairs]
    return matrix


async def _targeted_ids(session: AsyncSession, org_id: str, plan_id: str) -> list[str]:
    stmt = select(Segment.id).where(Segment.org_id == org_id, Segment.plan_id == plan_id, Segment.targeted.is_(True))
    return sorted((await session.execute(stmt.order_by(Segment.id))).scalars().all())


async def get_targeting(session: AsyncSession, principal: Principal, plan_id: str) -> TargetingOut:
    await load_plan(session, principal, plan_id)
    return TargetingOut(plan_id=plan_id, segment_ids=await _targeted_ids(session, principal.org_id, plan_id))


async def set_targeting(session: AsyncSession, principal: Principal, plan_id: str, body: TargetingIn) -> TargetingOut:
    """Choose the target market: exactly these segments of the plan are targeted."""
    ctx = await open_for_write(session, principal, plan_id, "strategic", body.override_reason)
    wanted = set(body.segment_ids)
    known = set(
        (
            await session.execute(
                select(Segment.id).where(
                    Segment.org_id == principal.org_id, Segment.plan_id == plan_id, Segment.id.in_(wanted)
                )
            )
        )
        .scalars()
        .all()
    )
    unknown = sorted(wanted - known)
    if unknown:
        raise FieldError("segment_ids", f"segments not in this plan: {', '.join(u[:36] for u in unknown)}")
    before = TargetingOut(plan_id=plan_id, segment_ids=await _targeted_ids(session, principal.org_id, plan_id))
    await session.execute(
        update(Segment)
        .where(Segment.org_id == principal.org_id, Segment.plan_id == plan_id)
        # each segment's ETag changes with ``targeted``: the version moves with it (compare-and-set, shared.db)
        .values(targeted=Segment.id.in_(wanted) if wanted else False, version=Segment.version + 1)
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    after = TargetingOut(plan_id=plan_id, segment_ids=await _targeted_ids(session, principal.org_id, plan_id))
    audit(session, ctx, "update", "targeting", plan_id, before, after)
    return after


async def get_positioning(session: AsyncSession, principal: Principal, plan_id: str) -> Positioning:
    await load_plan(session, principal, plan_id)
    found = await session.scalar(scoped(Positioning, principal.org_id).where(Positioning.plan_id == plan_id))
    if found is None:
        raise NotFound(f"plan {plan_id} has no positioning yet")
    return found


async def set_positioning(
    session: AsyncSession,
    principal: Principal,
    plan_id: str,
    body: PositioningIn,
    precondition: Precondition,
) -> Positioning:
    """The brand positioning, aimed at one of the plan's targeted segments. ``precondition`` is given the current
    one (None before the first) to check the client's If-Match against."""
    ctx = await open_for_write(session, principal, plan_id, "strategic", body.override_reason)
    segment = await session.scalar(
        scoped(Segment, principal.org_id).where(Segment.id == body.target_segment_id, Segment.plan_id == plan_id)
    )
    if segment is None or not segment.targeted:
        raise FieldError(
            "target_segment_id", "the positioning must name a targeted segment of this plan (PUT …/targeting first)"
        )
    current = await session.scalar(scoped(Positioning, principal.org_id).where(Positioning.plan_id == plan_id))
    before = PositioningOut.model_validate(current) if current else None
    precondition(before)
    values = body.model_dump(exclude={"override_reason"})
    if current is None:
        current = Positioning(org_id=principal.org_id, plan_id=plan_id, **values)
        session.add(current)
    else:
        for key, value in values.items():
            setattr(current, key, value)
    await flush_or_conflict(session, "this positioning")
    await session.refresh(current)
    audit(
        session,
        ctx,
        "update" if before else "create",
        "positioning",
        current.id,
        before,
        PositioningOut.model_validate(current),
    )
    return current
