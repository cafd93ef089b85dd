"""A B2B export held for a customs declaration (报关单, orders/routing.py) as the seller and its broker see it: the
hold on the order's view, the document the broker declares from (:func:`broker_document`), and the ways on —
recording the broker's declaration (routing.record_declared) or routing the order again (:func:`reroute`, also by
itself once a missing rate is given: :func:`reroute_waiting_for_rate`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customs.codes import alpha2, countries, currencies
from services.compliance.customs.declarations import destination
from services.compliance.orders import remedies, routing
from services.compliance.orders.broker_schemas import (
    BrokerDocument,
    BrokerItem,
    Coded,
    CustomsDeclarationOut,
    Party,
    RateOut,
    RouteReason,
)
from services.compliance.orders.declaration import declare, profile_of
from services.compliance.orders.locks import lock_order_nos
from services.compliance.orders.lookup import waybill_for
from services.compliance.orders.models import CustomsDeclarationRoute, Order
from services.compliance.orders.schemas import ExceptionOut, OrderOut
from shared.db import scoped
from shared.errors import Conflict, NotFound


def _rate(row: CustomsDeclarationRoute) -> RateOut | None:
    if row.rate is None or row.rate_source is None:
        return None
    return RateOut(currency=row.currency, rate=row.rate, day=row.rate_day, source=row.rate_source)


def route_out(row: CustomsDeclarationRoute) -> CustomsDeclarationOut:
    return CustomsDeclarationOut(
        status=row.status,  # type: ignore[arg-type]
        reasons=[RouteReason.model_validate(r) for r in row.reasons or []],
        goods_value=row.goods_value,
        currency=row.currency,
        value_cny=row.value_cny,
        rate=_rate(row),
        rate_day=row.rate_day,
        entry_id=row.entry_id,
        declared_on=row.declared_on,
        note=row.note,
        updated_at=row.updated_at,
    )


async def routes_of(session: AsyncSession, org_id: str, order_ids: list[str]) -> dict[str, CustomsDeclarationRoute]:
    """The routes of a page of orders, in one query."""
    if not order_ids:
        return {}
    stmt = scoped(CustomsDeclarationRoute, org_id).where(CustomsDeclarationRoute.order_id.in_(order_ids))
    return {r.order_id: r for r in (await session.execute(stmt)).scalars()}


async def held_route(session: AsyncSession, order: Order) -> CustomsDeclarationRoute:
    row = await routing.route_of(session, order)
    if row is None or order.state not in (routing.HELD, routing.DECLARED_ELSEWHERE):
        raise Conflict(f"order {order.order_no} is {order.state}: it is not declared by customs declaration")
    return row


def _code(table: dict[str, str], iso: str | None) -> Coded:
    return Coded(iso=iso, customs=table.get(iso) if iso else None)


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value))


async def broker_document(session: AsyncSession, order: Order) -> BrokerDocument:
    """The fields a customs declaration (报关单) needs, from the order, its item records, its waybill and the
    seller's customs profile; the CNY value at the rate named. 409 when the order is not routed to one."""
    row = await held_route(session, order)
    profile = await profile_of(session, order.org_id)
    if profile is None:
        raise NotFound("the customs profile is gone")
    records = await routing.records_of(session, order)
    waybill = await waybill_for(session, order)
    doc, way = order.document, waybill.document if waybill is not None else {}
    where = destination(doc, way)
    iso = alpha2(where.upper()) if where else None
    country = Coded(iso=iso, customs=str(doc["country"]) if doc.get("country") else countries().get(iso or ""))
    items = []
    for line in doc.get("items") or []:
        record = records.get(str(line["item_no"]))
        if record is None:
            raise Conflict(f"the item record of {line['item_no']} was removed: the document cannot name its goods")
        qty, total = _decimal(line["qty"]), _decimal(line["total"])
        items.append(BrokerItem(
            gnum=int(line["gnum"]), item_no=record.item_no, hs_code=line.get("hs_code") or record.hs_code,
            name=record.gname, spec=record.gmodel, quantity=qty, unit=str(line.get("unit") or record.unit),
            legal_quantity=qty * record.qty1_per_unit, legal_unit=record.unit1, unit_price=_decimal(line["price"]),
            total=total, total_cny=routing.in_cny(total, row.rate, row.currency),
            origin_country=record.origin_country, destination_country=country.customs,
            licence_required=record.licence_required, inspection_required=record.inspection_required,
        ))  # fmt: skip
    consignee = doc.get("consignee") or {}
    return BrokerDocument(
        order_no=order.order_no, ebp_code=order.ebp_code,
        exporter=Party(code=profile.ebc_code, name=profile.ebc_name),
        declaring_agent=Party(code=profile.agent_code, name=profile.agent_name),
        customs_code=profile.customs_code, port_code=profile.port_code,
        trade_mode=routing.trade_mode_of(order, profile), transport_mode=profile.traf_mode,
        overseas_consignee=doc.get("overseas_warehouse") or consignee.get("name"),
        destination_country=country, currency=_code(currencies(), order.currency),
        goods_value=row.goods_value, freight=_decimal(doc.get("freight") or 0), value_cny=row.value_cny,
        rate=_rate(row), gross_weight_kg=_decimal(way["weight_kg"]) if way.get("weight_kg") else None,
        net_weight_kg=None, logistics_no=waybill.logistics_no if waybill is not None else None,
        logistics_name=way.get("logistics_name"), overseas_warehouse=doc.get("overseas_warehouse"),
        items=items, reasons=[RouteReason.model_validate(r) for r in row.reasons or []],
        routed_at=row.updated_at,
    )  # fmt: skip


async def with_route(session: AsyncSession, order: Order, out: OrderOut) -> OrderOut:
    """The order's view with its route to a customs declaration and, while held or declared, the broker's
    document (none when a record or the profile is gone: the route itself says why it is held)."""
    route = await routing.route_of(session, order) if order.trade_direction == "export" else None
    if route is not None:
        out.customs_declaration = route_out(route)
        if order.state in (routing.HELD, routing.DECLARED_ELSEWHERE):
            try:
                out.broker_document = await broker_document(session, order)
            except (Conflict, NotFound):
                out.broker_document = None
    return out


def exception_of(o: Order, route: CustomsDeclarationRoute | None) -> ExceptionOut:
    """A B2B export to declare by customs declaration (报关单) in the exceptions: why, and the ways on."""
    reasons = route.reasons or [] if route is not None else []
    day = route.rate_day if route is not None else o.state_changed_at.date()
    cause, actions = remedies.customs_declaration(o, reasons, o.currency, day)
    return ExceptionOut(ebp_code=o.ebp_code, order_no=o.order_no, state=o.state, reason="needs_customs_declaration",
                        failing_rules=[], missing=[], since=o.state_changed_at, cause=cause,
                        actions=actions)  # fmt: skip


async def reroute(session: AsyncSession, order: Order) -> Order:
    """Route a held order again on what is stored now (a rate added or corrected, an item record changed, the
    order corrected): below the limit with nothing needing a licence, its inventory list is declared; otherwise
    it stays held with the reasons of now. The order number is locked by the caller."""
    if order.state != routing.HELD:
        raise Conflict(f"only an order held for a customs declaration is routed again; this one is {order.state}")
    await declare(session, order)
    await session.flush()
    return order


async def reroute_waiting_for_rate(session: AsyncSession, org_id: str, currency: str, day: date) -> int:
    """The orders held for want of ``currency``'s rate on ``day``, routed again now that it is given; returns
    how many were listed."""
    waiting = await routing.held_without_rate(session, org_id, currency, day)
    if not waiting:
        return 0
    await lock_order_nos(session, org_id, (o.order_no for o in waiting))
    still = scoped(Order, org_id).where(Order.id.in_([o.id for o in waiting]), Order.state == routing.HELD)
    fresh = (await session.execute(still.execution_options(populate_existing=True))).scalars().all()
    listed = 0
    for order in fresh:
        await declare(session, order)
        listed += order.state != routing.HELD
    return listed
