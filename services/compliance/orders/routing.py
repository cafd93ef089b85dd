"""Which way a matched export is declared (GACC announcement 2020 No.75): a B2B export (9710 direct, 9810 to an
overseas warehouse) whose goods are worth more than ¥5,000, or whose goods need an export licence or inspection,
is declared by customs declaration (报关单) through a broker, not by the inventory list (CEB603). Such an order is
held ``needs_customs_declaration`` (:func:`route`, called by ``declaration.declare`` before a list is queued) until
the seller records the broker's declaration (:func:`record_declared`, → ``declared_elsewhere``) or routes it
again (:func:`reroute`, e.g. after correcting a rate: below the limit it is listed). 9610 exports and imports
are never routed here (docs/flows.md, B2B exports above ¥5,000)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.items.lookup import records_by_no
from services.compliance.items.models import ItemRecord
from services.compliance.order_states import OrderState
from services.compliance.orders.models import CustomsDeclarationRoute, Order
from services.compliance.orders.quota import CHINA
from services.compliance.orders.state import change_state
from services.compliance.rates.models import ExchangeRate
from services.compliance.rates.service import rate_on
from services.compliance.setup.models import CustomsProfile
from shared.db import new_id, scoped
from shared.errors import Conflict, Unprocessable

#: the trade modes whose exports may need a customs declaration (9610 B2C retail is always listed)
B2B_MODES = ("9710", "9810")
#: the most a 9710/9810 inventory list may declare, in CNY: above it, a customs declaration
LIMIT_CNY = Decimal("5000")
HELD = OrderState.NEEDS_CUSTOMS_DECLARATION
DECLARED_ELSEWHERE = OrderState.DECLARED_ELSEWHERE
CENT = Decimal("0.01")


def today_in_china() -> date:
    """Customs' day: the rate of the day the order is routed, in China."""
    return datetime.now(CHINA).date()


def trade_mode_of(order: Order, profile: CustomsProfile) -> str:
    return str(order.document.get("trade_mode") or profile.trade_mode)


def is_b2b_export(order: Order, profile: CustomsProfile) -> bool:
    return order.trade_direction == "export" and trade_mode_of(order, profile) in B2B_MODES


def rate_text(rate: ExchangeRate) -> str:
    return f"1 {rate.currency} = {rate.rate.normalize():f} CNY ({rate.source}, {rate.day.isoformat()})"


def in_cny(amount: Decimal, rate: Decimal | None, currency: str) -> Decimal | None:
    """``amount`` of ``currency`` in CNY at ``rate`` (CNY per unit), to the fen; None without a rate."""
    if currency == "CNY":
        return amount.quantize(CENT, ROUND_HALF_UP)
    return None if rate is None else (amount * rate).quantize(CENT, ROUND_HALF_UP)


@dataclass
class Assessment:
    """The order's goods value, in CNY at the day's rate, and every reason it needs a customs declaration."""

    goods_value: Decimal
    currency: str
    day: date
    rate: ExchangeRate | None = None
    value_cny: Decimal | None = None
    reasons: list[dict[str, Any]] = field(default_factory=list)


async def records_of(session: AsyncSession, order: Order) -> dict[str, ItemRecord]:
    items = order.document.get("items") or []
    return await records_by_no(session, order.org_id, (str(i.get("item_no")) for i in items if isinstance(i, dict)))


async def assess(session: AsyncSession, order: Order, day: date) -> Assessment:
    """The shipment's value is the goods' value (``goods_value``, the order's goodsValue: the goods' transaction
    price, what the list declares as its lines' totalPrice and a customs declaration as its total); freight and
    tax are not goods, so ``actual_paid`` is not the value."""
    currency = order.currency
    a = Assessment(Decimal(str(order.document["goods_value"])), currency, day)
    if currency != "CNY":
        a.rate = await rate_on(session, order.org_id, currency, day)
    a.value_cny = in_cny(a.goods_value, a.rate.rate if a.rate is not None else None, currency)
    if a.value_cny is None:
        a.reasons.append({"code": "no_rate", "text": f"no {currency}→CNY exchange rate for {day.isoformat()}: the "
                          f"goods' value in CNY is unknown; add it (PUT /v1/compliance/exchange-rates/{currency}/"
                          f"{day.isoformat()}) and the order is routed again"})  # fmt: skip
    elif a.value_cny > LIMIT_CNY:
        at = f" at {rate_text(a.rate)}" if a.rate is not None else ""
        a.reasons.append({"code": "above_limit", "text": f"goods value {currency} {a.goods_value:.2f} = CNY "
                          f"{a.value_cny:.2f}{at}: above the ¥5,000 an inventory list may declare for a B2B "
                          "export"})  # fmt: skip
    records = await records_of(session, order)
    for item_no, record in sorted(records.items()):
        if record.licence_required:
            a.reasons.append({"code": "licence_required", "item_no": item_no,
                              "text": f"{item_no} ({record.gname}) needs an export licence"})  # fmt: skip
        if record.inspection_required:
            a.reasons.append({"code": "inspection_required", "item_no": item_no,
                              "text": f"{item_no} ({record.gname}) is subject to inspection"})  # fmt: skip
    return a


async def route_of(session: AsyncSession, order: Order) -> CustomsDeclarationRoute | None:
    stmt = scoped(CustomsDeclarationRoute, order.org_id).where(CustomsDeclarationRoute.order_id == order.id)
    return (await session.execute(stmt)).scalar_one_or_none()


def _write(row: CustomsDeclarationRoute, a: Assessment, status: str) -> None:
    row.status, row.reasons = status, a.reasons
    row.goods_value, row.currency, row.value_cny, row.rate_day = a.goods_value, a.currency, a.value_cny, a.day
    row.rate = a.rate.rate if a.rate is not None else None
    row.rate_source = a.rate.source if a.rate is not None else None


async def route(session: AsyncSession, order: Order, profile: CustomsProfile) -> bool:
    """True when the order is held for a customs declaration instead of being listed (its reasons kept, the
    order ``needs_customs_declaration``); False when the inventory list declares it. The rate is the one of the
    day the order was first routed (China time): routing a held order again (a corrected or added rate) keeps
    that day."""
    if not is_b2b_export(order, profile):
        return False
    row = await route_of(session, order)
    day = row.rate_day if row is not None and row.status == "held" else today_in_china()
    a = await assess(session, order, day)
    if not a.reasons:
        if row is not None:  # routed here before, within the list's limit now
            _write(row, a, "listed")
        return False
    if row is None:
        row = CustomsDeclarationRoute(id=new_id(), org_id=order.org_id, order_id=order.id)
        session.add(row)
    _write(row, a, "held")
    row.entry_id = row.declared_on = row.note = None
    if order.state != HELD:
        await change_state(session, order, HELD)
    await session.flush()
    return True


async def record_declared(
    session: AsyncSession, order: Order, entry_id: str, declared_on: date, note: str | None
) -> CustomsDeclarationRoute:
    """The broker declared the order by customs declaration: ``declared_elsewhere`` with the entry number. The
    same entry number again changes nothing; another one, or an order not held, is a conflict."""
    row = await route_of(session, order)
    if order.state == DECLARED_ELSEWHERE and row is not None:
        if row.entry_id != entry_id:
            raise Conflict(f"order {order.order_no} was declared under customs declaration {row.entry_id}")
        return row
    if order.state != HELD or row is None:
        raise Conflict(f"only an order held for a customs declaration can be recorded as declared; this one is "
                       f"{order.state}")  # fmt: skip
    if declared_on > today_in_china():
        raise Unprocessable("declared_on is in the future", loc=["body", "declared_on"])
    row.status, row.entry_id, row.declared_on, row.note = "declared", entry_id, declared_on, note
    await change_state(session, order, DECLARED_ELSEWHERE)
    await session.flush()
    return row


async def held_without_rate(session: AsyncSession, org_id: str, currency: str, day: date) -> list[Order]:
    """The orders held for want of ``currency``'s rate on ``day`` (routed again once it is given)."""
    stmt = (
        scoped(Order, org_id)
        .join(CustomsDeclarationRoute, CustomsDeclarationRoute.order_id == Order.id)
        .where(Order.state == HELD, CustomsDeclarationRoute.currency == currency,
               CustomsDeclarationRoute.value_cny.is_(None), CustomsDeclarationRoute.rate_day == day)
        .order_by(Order.created_at, Order.id)
        .limit(200)
    )  # fmt: skip
    return list((await session.execute(stmt)).scalars())
