"""The SBU grid: every SBU of a plan as a cell of customer × channel × product, with campaigns' figures
from the read model (or "not yet known").

Money in several currencies is never mixed: spend against budget, margins and the plan's totals are converted
with the plan's exchange rates (each naming the rate), or left side by side with the missing rate named."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.customer_status.schemas import CustomerStatusOut
from services.plans.customer_status.service import customer_status
from services.plans.planning.children import load_plan
from services.plans.planning.fx import Rates, missing
from services.plans.sbus.models import Sbu, SbuPerformance
from services.plans.sbus.schemas import GridOut
from services.plans.sbus.service import roas
from services.plans.tactics.models import Channel, Customer, Product
from shared.auth import Principal
from shared.money import money_or_none


def share(part: Decimal, whole: Decimal) -> Decimal | None:
    """part / whole to four places; None when the whole is zero."""
    return None if not whole else (part / whole).quantize(Decimal("0.0001"))


def _cell(row: Any, rates: Rates) -> dict[str, Any]:
    known = row.perf_currency is not None
    gaps: set[str] = set()
    budget_use = None
    if known:
        spend = rates.convert(row.spend_amount, row.perf_currency, row.budget_currency)
        if spend is None:
            gaps.update(missing(rates, (row.perf_currency, row.budget_currency)))
        else:
            budget_use = {
                "budget": money_or_none(row.budget_amount, row.budget_currency),
                "spend": money_or_none(spend.amount, spend.currency),
                "share": share(spend.amount, row.budget_amount),
                "rates": list(spend.rates),
            }
    margin = None
    cost = rates.convert(row.unit_cost_amount, row.unit_cost_currency, row.price_currency)
    if cost is None:
        gaps.update(missing(rates, (row.unit_cost_currency, row.price_currency)))
    else:
        margin = {
            "price": money_or_none(row.price_amount, row.price_currency),
            "unit_cost": money_or_none(cost.amount, cost.currency),
            "amount": row.price_amount - cost.amount,
            "share": share(row.price_amount - cost.amount, row.price_amount),
            "rates": list(cost.rates),
        }
    return {
        "sbu_id": row.id,
        "status": row.status,
        "customer": {"id": row.customer_id, "name": row.customer_name},
        "channel": {
            "id": row.channel_id,
            "name": row.channel_name,
            "platform": row.platform,
            "business_model": row.business_model,
        },
        "product": {"id": row.product_id, "name": row.product_name, "sku": row.sku},
        "need": row.need,
        "demand": row.demand,
        "budget": money_or_none(row.budget_amount, row.budget_currency),
        "revenue_target": money_or_none(row.revenue_target_amount, row.revenue_target_currency),
        "performance_known": known,
        "spend": money_or_none(row.spend_amount, row.perf_currency) if known else None,
        "revenue": money_or_none(row.revenue_amount, row.perf_currency) if known else None,
        "roas": roas(row.spend_amount, row.revenue_amount) if known else None,
        **released_figures(
            row.spend_amount if known else None, row.revenue_amount, row.released_revenue_amount, row.perf_currency
        ),
        "performance_as_of": row.as_of,
        "budget_use": budget_use,
        "margin": margin,
        "missing_rates": sorted(gaps),
    }


def released_figures(
    spend: Decimal | None, claimed: Decimal | None, released: Decimal | None, currency: str | None
) -> dict[str, Any]:
    """Released revenue and its ROAS beside the claimed ROAS, and the gap between the two (all None until
    campaigns announced released revenue)."""
    if spend is None or released is None:
        return {"released_revenue": None, "released_roas": None, "roas_gap": None}
    claimed_roas, released_roas = roas(spend, claimed), roas(spend, released)
    return {
        "released_revenue": money_or_none(released, currency),
        "released_roas": released_roas,
        "roas_gap": None if claimed_roas is None or released_roas is None else claimed_roas - released_roas,
    }


FIELDS = ("budget", "spend", "revenue", "released_revenue")


def grid_totals(cells: list[dict[str, Any]], rates: Rates) -> dict[str, Any]:
    """Live SBUs' budget, spend and revenue per currency as given, and in the base currency when every currency
    in use has a rate (never a sum across currencies otherwise)."""
    live = [c for c in cells if c["status"] != "retired"]
    by: dict[str, dict[str, Decimal]] = {}

    def add(currency: str, field: str, amount: Decimal) -> None:
        by.setdefault(currency, dict.fromkeys(FIELDS, Decimal(0)))[field] += amount

    for c in live:
        add(c["budget"]["currency"], "budget", c["budget"]["amount"])
        if c["spend"] is not None:
            add(c["spend"]["currency"], "spend", c["spend"]["amount"])
            add(c["revenue"]["currency"], "revenue", c["revenue"]["amount"])
            if c["released_revenue"] is not None:
                add(c["released_revenue"]["currency"], "released_revenue", c["released_revenue"]["amount"])
    return totals_of(by, rates)


def totals_of(by: dict[str, dict[str, Decimal]], rates: Rates) -> dict[str, Any]:
    """The grid's totals from the live SBUs' ``{currency: {budget, spend, revenue}}`` as given."""
    gaps = missing(rates, by)
    in_base = None
    if not gaps:
        sums = dict.fromkeys(FIELDS, Decimal(0))
        used: dict[str, dict[str, str]] = {}
        for currency, figures in by.items():
            for field, amount in figures.items():
                converted = rates.convert(amount, currency)
                assert converted is not None  # every currency has a rate: checked above
                sums[field] += converted.amount
                used.update({r["currency"]: r for r in converted.rates})
        in_base = {
            "currency": rates.base,
            **sums,
            "roas": roas(sums["spend"], sums["revenue"]),
            "released_roas": roas(sums["spend"], sums["released_revenue"]),
            "rates": [used[k] for k in sorted(used)],
        }
    return {
        "by_currency": [{"currency": k, **by[k]} for k in sorted(by)],
        "in_base": in_base,
        "missing_rates": gaps,
    }


def _axis(items: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items.values(), key=lambda i: (i["name"], i["id"]))


async def sbu_grid(session: AsyncSession, principal: Principal, plan_id: str) -> GridOut:
    """The grid as a model (what the report reads); the route answers the same as JSON written in one pass
    (:mod:`services.plans.sbus.grid_json`)."""
    plan = await load_plan(session, principal, plan_id)
    rates = Rates.of(plan.base_currency, plan.fx_rates)
    # plain columns, not five ORM entities per row: a 1,000-SBU grid spent most of its time building and
    # tracking 4,000 objects it only read from
    stmt = (
        select(
            Sbu.id,
            Sbu.status,
            Sbu.need,
            Sbu.demand,
            Sbu.budget_amount,
            Sbu.budget_currency,
            Sbu.revenue_target_amount,
            Sbu.revenue_target_currency,
            Customer.id.label("customer_id"),
            Customer.name.label("customer_name"),
            Channel.id.label("channel_id"),
            Channel.name.label("channel_name"),
            Channel.platform,
            Channel.business_model,
            Product.id.label("product_id"),
            Product.name.label("product_name"),
            Product.sku,
            Product.unit_cost_amount,
            Product.unit_cost_currency,
            Product.price_amount,
            Product.price_currency,
            SbuPerformance.spend_amount,
            SbuPerformance.revenue_amount,
            SbuPerformance.currency.label("perf_currency"),
            SbuPerformance.as_of,
            SbuPerformance.released_revenue_amount,
        )
        .join(Customer, Customer.id == Sbu.customer_id)
        .join(Channel, Channel.id == Sbu.channel_id)
        .join(Product, Product.id == Sbu.product_id)
        .outerjoin(SbuPerformance, SbuPerformance.sbu_id == Sbu.id)
        .where(Sbu.org_id == principal.org_id, Sbu.plan_id == plan_id)
        .order_by(Sbu.created_at, Sbu.id)
    )
    rows = (await session.execute(stmt)).all()
    return grid_of(plan_id, plan.base_currency, rates, rows, await customer_status(session, plan))


def grid_of(
    plan_id: str, base_currency: str, rates: Rates, rows: Sequence[Any], status: CustomerStatusOut | None
) -> GridOut:
    """The grid of a plan's rows (each with the named columns :func:`sbu_grid` selects)."""
    cells = [_cell(row, rates) for row in rows]
    return GridOut.model_validate(
        {
            "plan_id": plan_id,
            "base_currency": base_currency,
            "totals": grid_totals(cells, rates),
            "customers": _axis({c["customer"]["id"]: c["customer"] for c in cells}),
            "channels": _axis({c["channel"]["id"]: c["channel"] for c in cells}),
            "products": _axis({c["product"]["id"]: c["product"] for c in cells}),
            "cells": cells,
            "customer_status": status,
        }
    )
