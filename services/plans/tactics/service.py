"""The tactical layer: customers and needs ("people"), channels ("field"), products and pricing ("goods")."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.planning.children import ChildKind
from services.plans.planning.models import Plan
from services.plans.strategy.models import Segment
from services.plans.tactics.models import Channel, Customer, Product
from services.plans.tactics.schemas import (
    ChannelIn,
    ChannelOut,
    ChannelPatch,
    CustomerIn,
    CustomerOut,
    CustomerPatch,
    ProductIn,
    ProductOut,
    ProductPatch,
)
from shared.db import scoped
from shared.errors import Unprocessable
from shared.schemas import format_decimal

SUPERVISORS = ("supervisor",)


async def check_customer(session: AsyncSession, plan: Plan, customer: Customer) -> None:
    if customer.segment_id is None:
        return
    segment = await session.scalar(
        scoped(Segment, plan.org_id).where(Segment.id == customer.segment_id, Segment.plan_id == plan.id)
    )
    if segment is None:
        raise Unprocessable(f"segment {customer.segment_id} is not in this plan", loc=["body", "segment_id"])


def price_problem(price: tuple, ceiling: tuple | None) -> str | None:
    """Why a price breaks its ceiling, or None. Amounts are compared only within one currency."""
    if ceiling is None or ceiling[0] is None:
        return None
    (amount, currency), (limit, limit_currency) = price, ceiling
    if currency != limit_currency:
        return f"price is in {currency} but its ceiling is in {limit_currency}; give both in one currency"
    if amount > limit:
        return (
            f"price {format_decimal(amount)} {currency} is above its ceiling {format_decimal(limit)} {limit_currency}"
        )
    return None


async def check_product(session: AsyncSession, plan: Plan, product: Product) -> None:
    if product.unit_cost_currency != product.price_currency:
        raise Unprocessable("unit_cost and price must be in the same currency", loc=["body", "unit_cost"])
    problem = price_problem(
        (product.price_amount, product.price_currency),
        (product.price_ceiling_amount, product.price_ceiling_currency),
    )
    if problem:
        raise Unprocessable(problem, loc=["body", "price"])


CUSTOMERS = ChildKind(
    "customers",
    "customer",
    Customer,
    CustomerIn,
    CustomerPatch,
    CustomerOut,
    "tactical",
    SUPERVISORS,
    check=check_customer,
    tag="tactical layer",
)
CHANNELS = ChildKind(
    "channels", "channel", Channel, ChannelIn, ChannelPatch, ChannelOut, "tactical", SUPERVISORS, tag="tactical layer"
)
PRODUCTS = ChildKind(
    "products",
    "product",
    Product,
    ProductIn,
    ProductPatch,
    ProductOut,
    "tactical",
    SUPERVISORS,
    check=check_product,
    tag="tactical layer",
)
