"""The SBU grid computed plainly, cell by cell in decimals and validated into ``GridOut``: what
`GET /v1/plans/{id}/sbu-grid` answered before its one-pass builder (services/plans/sbus/grid_json.py), kept here
as the reference that builder is pinned to (tests/plans/test_grid_json.py). A field added to the grid is added
here too, or the pin fails."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from services.plans.customer_status.schemas import CustomerStatusOut
from services.plans.planning.fx import Rates, missing
from services.plans.sbus.grid_json import FIELDS, share, totals_of
from services.plans.sbus.schemas import GridOut
from services.plans.sbus.service import roas
from shared.money import money_or_none


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


def _axis(items: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items.values(), key=lambda i: (i["name"], i["id"]))


def grid_of(
    plan_id: str, base_currency: str, rates: Rates, rows: Sequence[Any], status: CustomerStatusOut | None
) -> GridOut:
    """The grid of a plan's rows (named as ``Row`` in tests/plans/test_grid_json.py names them, amounts as
    decimals)."""
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
