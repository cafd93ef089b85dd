"""The SBU grid: every SBU of a plan as a cell of customer × channel × product, with campaigns' figures
from the read model (or "not yet known")."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.customer_status.service import customer_status
from services.plans.kit import money
from services.plans.planning.children import load_plan
from services.plans.sbus.models import Sbu, SbuPerformance
from services.plans.sbus.schemas import GridOut
from services.plans.sbus.service import roas
from services.plans.tactics.models import Channel, Customer, Product
from shared.auth import Principal


def _cell(row: Any) -> dict[str, Any]:
    known = row.perf_currency is not None
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
        "budget": money(row.budget_amount, row.budget_currency),
        "revenue_target": money(row.revenue_target_amount, row.revenue_target_currency),
        "performance_known": known,
        "spend": money(row.spend_amount, row.perf_currency) if known else None,
        "revenue": money(row.revenue_amount, row.perf_currency) if known else None,
        "roas": roas(row.spend_amount, row.revenue_amount) if known else None,
        "performance_as_of": row.as_of,
    }


def _axis(items: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items.values(), key=lambda i: (i["name"], i["id"]))


async def sbu_grid(session: AsyncSession, principal: Principal, plan_id: str) -> GridOut:
    plan = await load_plan(session, principal, plan_id)
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
            SbuPerformance.spend_amount,
            SbuPerformance.revenue_amount,
            SbuPerformance.currency.label("perf_currency"),
            SbuPerformance.as_of,
        )
        .join(Customer, Customer.id == Sbu.customer_id)
        .join(Channel, Channel.id == Sbu.channel_id)
        .join(Product, Product.id == Sbu.product_id)
        .outerjoin(SbuPerformance, SbuPerformance.sbu_id == Sbu.id)
        .where(Sbu.org_id == principal.org_id, Sbu.plan_id == plan_id)
        .order_by(Sbu.created_at, Sbu.id)
    )
    cells = [_cell(row) for row in (await session.execute(stmt)).all()]
    return GridOut.model_validate(
        {
            "plan_id": plan_id,
            "customers": _axis({c["customer"]["id"]: c["customer"] for c in cells}),
            "channels": _axis({c["channel"]["id"]: c["channel"] for c in cells}),
            "products": _axis({c["product"]["id"]: c["product"] for c in cells}),
            "cells": cells,
            "customer_status": await customer_status(session, plan),
        }
    )
