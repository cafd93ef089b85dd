"""The SBU grid: every SBU of a plan as a cell of customer × channel × product, with campaigns' figures
from the read model (or "not yet known")."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.kit import money
from services.plans.planning.children import load_plan
from services.plans.sbus.models import Sbu, SbuPerformance
from services.plans.sbus.schemas import GridOut
from services.plans.sbus.service import roas
from services.plans.tactics.models import Channel, Customer, Product
from shared.auth import Principal


def _cell(sbu: Sbu, customer: Customer, channel: Channel, product: Product, perf: SbuPerformance | None) -> dict:
    known = perf is not None
    return {
        "sbu_id": sbu.id,
        "status": sbu.status,
        "customer": {"id": customer.id, "name": customer.name},
        "channel": {
            "id": channel.id,
            "name": channel.name,
            "platform": channel.platform,
            "business_model": channel.business_model,
        },
        "product": {"id": product.id, "name": product.name, "sku": product.sku},
        "need": sbu.need,
        "demand": sbu.demand,
        "budget": sbu.budget,
        "revenue_target": sbu.revenue_target,
        "performance_known": known,
        "spend": money(perf.spend_amount, perf.currency) if perf else None,
        "revenue": money(perf.revenue_amount, perf.currency) if perf else None,
        "roas": roas(perf.spend_amount, perf.revenue_amount) if perf else None,
        "performance_as_of": perf.as_of if perf else None,
    }


def _axis(items: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items.values(), key=lambda i: (i["name"], i["id"]))


async def sbu_grid(session: AsyncSession, principal: Principal, plan_id: str) -> GridOut:
    await load_plan(session, principal, plan_id)
    stmt = (
        select(Sbu, Customer, Channel, Product, SbuPerformance)
        .join(Customer, Customer.id == Sbu.customer_id)
        .join(Channel, Channel.id == Sbu.channel_id)
        .join(Product, Product.id == Sbu.product_id)
        .outerjoin(SbuPerformance, SbuPerformance.sbu_id == Sbu.id)
        .where(Sbu.org_id == principal.org_id, Sbu.plan_id == plan_id)
        .order_by(Sbu.created_at, Sbu.id)
    )
    cells = [_cell(*row) for row in (await session.execute(stmt)).all()]
    return GridOut.model_validate(
        {
            "plan_id": plan_id,
            "customers": _axis({c["customer"]["id"]: c["customer"] for c in cells}),
            "channels": _axis({c["channel"]["id"]: c["channel"] for c in cells}),
            "products": _axis({c["product"]["id"]: c["product"] for c in cells}),
            "cells": cells,
        }
    )
