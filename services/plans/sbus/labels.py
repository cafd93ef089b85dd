"""The labels an SBU is shown with: the names of its customer, channel and product, read in the same statement
as the SBU (a single SBU is what campaigns asks for before binding work to it: one query) or in one statement
for a page of them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.sbus.models import Sbu
from services.plans.sbus.schemas import ChannelRef, ProductRef, Ref, SbuOut, SbuView
from services.plans.tactics.models import Channel, Customer, Product
from shared.db import is_uuid
from shared.errors import NotFound
from shared.money import money_or_none

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


_SBU = Sbu.__table__  # type: ignore[attr-defined]
#: the SBU's own columns (SbuOut's fields, money as amount and currency) and its labels, for one row
_ONE = (
    *(column for column in _SBU.c if column.key != "version"),
    *(
        column.label(label)
        for column, label in (
            (Customer.__table__.c.name, "customer_name"),  # type: ignore[attr-defined]
            (Channel.__table__.c.name, "channel_name"),  # type: ignore[attr-defined]
            (Channel.__table__.c.platform, "platform"),  # type: ignore[attr-defined]
            (Channel.__table__.c.business_model, "business_model"),  # type: ignore[attr-defined]
            (Product.__table__.c.name, "product_name"),  # type: ignore[attr-defined]
            (Product.__table__.c.sku, "sku"),  # type: ignore[attr-defined]
        )
    ),
)

#: built once: composing the statement's expressions on every read cost as much as running it
_ONE_SBU = _joined(*_ONE).where(_SBU.c.id == bindparam("sbu_id"), _SBU.c.org_id == bindparam("org_id"))


async def get_view(session: AsyncSession, org_id: str, sbu_id: str) -> SbuView:
    """One SBU with its labels: one statement, read as a row (no ORM object), validated once."""
    if not is_uuid(sbu_id):
        raise NotFound(f"sbu {sbu_id[:64]!r} not found")
    row = (await session.execute(_ONE_SBU, {"sbu_id": sbu_id, "org_id": org_id})).mappings().first()
    if row is None:
        raise NotFound(f"sbu {sbu_id} not found")
    return SbuView.model_validate(
        {
            **row,
            "budget": money_or_none(row["budget_amount"], row["budget_currency"]),
            "revenue_target": money_or_none(row["revenue_target_amount"], row["revenue_target_currency"]),
            "customer": {"id": row["customer_id"], "name": row["customer_name"]},
            "channel": {
                "id": row["channel_id"],
                "name": row["channel_name"],
                "platform": row["platform"],
                "business_model": row["business_model"],
            },
            "product": {"id": row["product_id"], "name": row["product_name"], "sku": row["sku"]},
        }
    )


async def views_of(session: AsyncSession, sbus: Sequence[Sbu]) -> list[SbuView]:
    if not sbus:
        return []
    ids = [s.id for s in sbus]
    rows = (await session.execute(_joined(Sbu.id, *LABELS).where(Sbu.id.in_(ids)))).all()
    labels = {row[0]: row[1:] for row in rows}
    return [_view(s, labels[s.id]) for s in sbus]
