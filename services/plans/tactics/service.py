"""The tactical layer: customers and needs ("people"), channels ("field"), products and pricing ("goods")."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.planning.children import ChildKind
from services.plans.planning.fx import Rates
from services.plans.planning.models import Plan
from services.plans.planning.price_rule import price_problem
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
from shared.errors import FieldError

SUPERVISORS = ("supervisor",)


async def check_customer(session: AsyncSession, plan: Plan, customer: Customer) -> None:
    if customer.segment_id is None:
        return
    segment = await session.scalar(
        scoped(Segment, plan.org_id).where(Segment.id == customer.segment_id, Segment.plan_id == plan.id)
    )
    if segment is None:
        raise FieldError("segment_id", f"segment {customer.segment_id} is not in this plan")


async def check_product(session: AsyncSession, plan: Plan, product: Product) -> None:
    problem = price_problem(
        (product.price_amount, product.price_currency),
        (product.price_ceiling_amount, product.price_ceiling_currency),
        Rates.of(plan.base_currency, plan.fx_rates),
    )
    if problem:
        raise FieldError("price", problem)


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
