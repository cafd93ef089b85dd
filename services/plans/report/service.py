"""The one-page plan a CMO prints: positioning, SWOT 2×2, target segments, the SBU grid and a
budget-vs-spend chart per SBU as inline SVG (no JavaScript)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.planning.children import load_plan
from services.plans.sbus.grid import sbu_grid
from services.plans.strategy.models import Positioning, Segment
from services.plans.strategy.service import swot_matrix
from shared.auth import Principal
from shared.db import scoped
from shared.schemas import format_decimal

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
TEMPLATES.filters["dec"] = lambda v: "—" if v is None else format_decimal(Decimal(v))

CHART_LEFT, CHART_WIDTH, ROW = 240, 500, 44


@dataclass(frozen=True)
class Bar:
    label: str
    y: int
    budget: Decimal
    budget_width: int
    spend: Decimal | None
    spend_width: int


def budget_bars(rows: list[tuple[str, Decimal, Decimal | None]]) -> list[Bar]:
    """Bar geometry for (label, budget, spend) rows, scaled to the largest amount."""
    top = max([b for _, b, _ in rows] + [s for _, _, s in rows if s is not None] + [Decimal(0)])

    def width(v: Decimal | None) -> int:
        return 0 if not v or not top else max(1, int(v / top * CHART_WIDTH))

    return [
        Bar(label, 20 + i * ROW, budget, width(budget), spend, width(spend))
        for i, (label, budget, spend) in enumerate(rows)
    ]


async def render_report(session: AsyncSession, principal: Principal, plan_id: str) -> str:
    plan = await load_plan(session, principal, plan_id)
    swot = await swot_matrix(session, principal, plan_id)
    grid = await sbu_grid(session, principal, plan_id)
    segments = (
        (
            await session.execute(
                scoped(Segment, principal.org_id).where(Segment.plan_id == plan_id).order_by(Segment.name)
            )
        )
        .scalars()
        .all()
    )
    positioning = await session.scalar(scoped(Positioning, principal.org_id).where(Positioning.plan_id == plan_id))
    live = [c for c in grid.cells if c.status != "retired"]
    bars = budget_bars(
        [
            (
                f"{c.customer.name} × {c.channel.name} × {c.product.name}",
                c.budget.amount,
                c.spend.amount if c.spend else None,
            )
            for c in live
        ]
    )
    context: dict[str, Any] = {
        "plan": plan,
        "swot": swot,
        "segments": [s for s in segments if s.targeted],
        "positioning": positioning,
        "positioning_segment": next(
            (s for s in segments if positioning and s.id == positioning.target_segment_id), None
        ),
        "cells": grid.cells,
        "customer_status": grid.customer_status,
        "live": live,
        "bars": bars,
        "chart": {"left": CHART_LEFT, "width": CHART_WIDTH, "height": 40 + ROW * max(len(bars), 1)},
    }
    return TEMPLATES.get_template("plan_report.html").render(**context)
