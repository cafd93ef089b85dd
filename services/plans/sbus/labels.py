"""The labels an SBU is shown with: the names of its customer, channel and product, read in the same statement
as the SBU (a single SBU is what campaigns asks for before binding work to it: one query) or in one statement
for a page of them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.sbus.models import Sbu
from services.plans.sbus.schemas import ChannelRef, ProductRef, Ref, SbuOut, SbuView
from services.plans.tactics.models import Channel, Customer, Product
from shared.db import is_uuid
from shared.errors import NotFound

LABELS = (Customer.name, Channel.name, Channel.platform, Channel.business_model, Product.name, Product.sku)


def _joined(*columns: Any) -> Any:
    return (
        select(*columns)
        .join(Customer, Customer.id == Sbu.customer_id)
        .join(Channel, Channel.id == Sbu.channel_id)
        .join(Product, Product.id == Sbu.product_id)
    )


def _view(sbu: Sbu, labels: Sequence[Any]) -> SbuView:
    customer, channel, platform, business_model, product, sku = labels
    return SbuView(
        **SbuOut.model_validate(sbu).model_dump(),
        customer=Ref(id=sbu.customer_id, name=customer),
        channel=ChannelRef(id=sbu.channel_id, name=channel, platform=platform, business_model=business_model),
        product=ProductRef(id=sbu.product_id, name=product, sku=sku),
    )


async def get_view(session: AsyncSession, org_id: str, sbu_id: str) -> SbuView:
    if not is_uuid(sbu_id):
        raise NotFound(f"sbu {sbu_id[:64]!r} not found")
    row = (await session.execute(_joined(Sbu, *LABELS).where(Sbu.id == sbu_id, Sbu.org_id == org_id))).first()
    if row is None:
        raise NotFound(f"sbu {sbu_id} not found")
    return _view(row[0], row[1:])


async def views_of(session: AsyncSession, sbus: Sequence[Sbu]) -> list[SbuView]:
    if not sbus:
        return []
    ids = [s.id for s in sbus]
    rows = (await session.execute(_joined(Sbu.id, *LABELS).where(Sbu.id.in_(ids)))).all()
    labels = {row[0]: row[1:] for row in rows}
    return [_view(s, labels[s.id]) for s in sbus]
