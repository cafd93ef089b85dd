"""The SBU grid, built once: `GET /v1/plans/{id}/sbu-grid` answers its JSON, and the report reads the same JSON
back as a :class:`~services.plans.sbus.schemas.GridOut` (:func:`services.plans.sbus.grid.sbu_grid`). There is no
second builder to keep in step: a new field of the grid is declared on its model in ``schemas.py`` and made here.

A 1,000-SBU grid has few distinct pieces: a product's reference and margin are the same in each of its 100
cells, and most cells share their budget and revenue target. Each distinct piece is made once per request by
the response's own models (``MoneyOut``, ``Margin``, ``BudgetUse``, ``ProductRef`` …: the same validation, the
same decimal and time formats) and kept as a JSON fragment; a cell is a dict of those fragments and of its own
few strings, and orjson writes the whole answer. Nothing of the grid goes through ``GridOut`` itself, so it is
neither validated nor serialised a second time. ``tests/plans/test_grid_json.py`` pins the answer, byte for byte,
to what ``GridOut`` validation and serialisation make of the same rows computed plainly (many varied plans and
rows), and the report's reading of it to the answer itself."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from pydantic import BaseModel, TypeAdapter
from sqlalchemy import BigInteger, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.customer_status.service import customer_status
from services.plans.planning.children import load_plan
from services.plans.planning.fx import Rates, missing
from services.plans.sbus.models import Sbu, SbuPerformance
from services.plans.sbus.schemas import BudgetUse, ChannelRef, GridTotals, Margin, ProductRef, Ref
from services.plans.sbus.service import roas
from services.plans.tactics.models import Channel, Customer, Product
from shared.auth import Principal
from shared.money import MONEY_SCALE, MoneyOut
from shared.schemas import format_decimal

Fragment = orjson.Fragment
#: a converted figure's fragment (None when a rate is missing) and the currencies it lacks
Found = tuple[Fragment | None, tuple[str, ...]]
_DATETIME = TypeAdapter(datetime)


def _raw(column: Any) -> Any:
    # the amount as stored (an integer of 10^-4 units), converted below once per distinct value
    return type_coerce(column, BigInteger())


_SBU, _CUSTOMER, _CHANNEL, _PRODUCT, _PERF = (
    m.__table__
    for m in (Sbu, Customer, Channel, Product, SbuPerformance)  # type: ignore[attr-defined]
)
#: one row per SBU, in the order :class:`Row` reads them
COLUMNS = (
    _SBU.c.id,
    _SBU.c.status,
    _SBU.c.need,
    _SBU.c.demand,
    _raw(_SBU.c.budget_amount),
    _SBU.c.budget_currency,
    _raw(_SBU.c.revenue_target_amount),
    _SBU.c.revenue_target_currency,
    _SBU.c.customer_id,
    _CUSTOMER.c.name,
    _SBU.c.channel_id,
    _CHANNEL.c.name,
    _CHANNEL.c.platform,
    _CHANNEL.c.business_model,
    _SBU.c.product_id,
    _PRODUCT.c.name,
    _PRODUCT.c.sku,
    _raw(_PRODUCT.c.unit_cost_amount),
    _PRODUCT.c.unit_cost_currency,
    _raw(_PRODUCT.c.price_amount),
    _PRODUCT.c.price_currency,
    _raw(_PERF.c.spend_amount),
    _raw(_PERF.c.revenue_amount),
    _PERF.c.currency,
    _PERF.c.as_of,
    _raw(_PERF.c.released_revenue_amount),
)


def rows_statement(org_id: str, plan_id: str) -> Any:
    """The plan's SBUs with their labels, product figures and campaigns' figures (amounts in stored units)."""
    return (
        select(*COLUMNS)
        .select_from(_SBU)
        .join(_CUSTOMER, _CUSTOMER.c.id == _SBU.c.customer_id)
        .join(_CHANNEL, _CHANNEL.c.id == _SBU.c.channel_id)
        .join(_PRODUCT, _PRODUCT.c.id == _SBU.c.product_id)
        .outerjoin(_PERF, _PERF.c.sbu_id == _SBU.c.id)
        .where(_SBU.c.org_id == org_id, _SBU.c.plan_id == plan_id)
        .order_by(_SBU.c.created_at, _SBU.c.id)
    )


def share(part: Decimal, whole: Decimal) -> Decimal | None:
    """part / whole to four places; None when the whole is zero."""
    return None if not whole else (part / whole).quantize(Decimal("0.0001"))


#: the figures the grid's totals add up, per currency
FIELDS = ("budget", "spend", "revenue", "released_revenue")


def totals_of(by: dict[str, dict[str, Decimal]], rates: Rates) -> dict[str, Any]:
    """The grid's totals from the live SBUs' ``{currency: {budget, spend, revenue, released_revenue}}`` as given,
    and in the base currency when every currency in use has a rate (never a sum across currencies otherwise)."""
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


def _json(model: type[BaseModel], data: dict[str, Any]) -> Fragment:
    return Fragment(model.__pydantic_serializer__.to_json(model.model_validate(data)))


class _Builder:
    """The distinct pieces of one plan's grid, each made once by its model and kept as JSON."""

    def __init__(self, rates: Rates) -> None:
        self.rates = rates
        self.amounts: dict[int, Decimal] = {}
        self.money: dict[tuple[Any, ...], Fragment] = {}
        self.margins: dict[str, Found] = {}
        self.uses: dict[tuple[Any, ...], Found] = {}
        self.times: dict[datetime, str] = {}
        self.axes: tuple[dict[str, Any], dict[str, Any], dict[str, Any]] = ({}, {}, {})

    def amount(self, units: int) -> Decimal:
        value = self.amounts.get(units)
        if value is None:
            value = self.amounts[units] = Decimal(int(units)).scaleb(-MONEY_SCALE)
        return value

    def stored_money(self, units: int, currency: str) -> Fragment:
        key = (units, currency)
        fragment = self.money.get(key)
        if fragment is None:
            fragment = self.money[key] = _json(MoneyOut, {"amount": self.amount(units), "currency": currency})
        return fragment

    def _converted(
        self, cache: dict[Any, Found], key: Any, units: int, source: str, target: str, make: Callable[[Any], Fragment]
    ) -> Found:
        """``units`` of ``source`` in ``target``, made into a fragment by ``make`` once per ``key``; or the
        currencies the rates lack."""
        found = cache.get(key)
        if found is None:
            converted = self.rates.convert(self.amount(units), source, target)
            if converted is None:
                found = (None, tuple(missing(self.rates, (source, target))))
            else:
                found = (make(converted), ())
            cache[key] = found
        return found

    def margin(self, row: Sequence[Any]) -> Found:
        """The product's unit margin (the same in each of its cells) and the currencies it lacks."""
        price_currency = row[20]

        def make(cost: Any) -> Fragment:
            price = self.amount(row[19])
            return _json(Margin, {
                "price": {"amount": price, "currency": price_currency},
                "unit_cost": {"amount": cost.amount, "currency": cost.currency},
                "amount": price - cost.amount,
                "share": share(price - cost.amount, price),
                "rates": list(cost.rates),
            })  # fmt: skip

        return self._converted(self.margins, row[14], row[17], row[18], price_currency, make)

    def budget_use(self, row: Sequence[Any]) -> Found:
        """Spend against budget in the budget's currency, and the currencies it lacks."""
        budget_currency = row[5]

        def make(spend: Any) -> Fragment:
            budget = self.amount(row[4])
            return _json(BudgetUse, {
                "budget": {"amount": budget, "currency": budget_currency},
                "spend": {"amount": spend.amount, "currency": spend.currency},
                "share": share(spend.amount, budget),
                "rates": list(spend.rates),
            })  # fmt: skip

        return self._converted(self.uses, (row[21], row[23], row[4], row[5]), row[21], row[23], budget_currency, make)

    def time(self, value: datetime) -> str:
        text = self.times.get(value)
        if text is None:
            text = self.times[value] = _DATETIME.dump_python(value, mode="json")
        return text

    def ref(self, axis: int, model: type[BaseModel], data: dict[str, Any]) -> Fragment:
        fragment = _json(model, data)
        self.axes[axis][data["id"]] = (data, fragment)
        return fragment

    def cell(self, row: Sequence[Any]) -> dict[str, Any]:
        (sbu_id, status, need, demand, budget_units, budget_currency, target_units, target_currency) = row[:8]
        customer_id, channel_id, product_id, perf_currency = row[8], row[10], row[14], row[23]
        customers, channels, products = self.axes
        customer = customers.get(customer_id)
        customer = customer[1] if customer else self.ref(0, Ref, {"id": customer_id, "name": row[9]})
        channel = channels.get(channel_id)
        channel = (
            channel[1]
            if channel
            else self.ref(
                1, ChannelRef, {"id": channel_id, "name": row[11], "platform": row[12], "business_model": row[13]}
            )
        )
        product = products.get(product_id)
        product = (
            product[1] if product else self.ref(2, ProductRef, {"id": product_id, "name": row[15], "sku": row[16]})
        )
        margin, gaps = self.margins.get(product_id) or self.margin(row)
        money = self.money
        budget = money.get((budget_units, budget_currency)) or self.stored_money(budget_units, budget_currency)
        target = money.get((target_units, target_currency)) or self.stored_money(target_units, target_currency)
        use = spend = revenue = value_text = released = released_text = gap_text = None
        if perf_currency is not None:
            use, use_gaps = self.budget_use(row)
            if use_gaps:
                gaps = tuple(sorted({*gaps, *use_gaps}))
            value = roas(self.amount(row[21]), self.amount(row[22]))
            spend, revenue = self.stored_money(row[21], perf_currency), self.stored_money(row[22], perf_currency)
            value_text = None if value is None else format_decimal(value)
            if row[25] is not None:
                released = self.stored_money(row[25], perf_currency)
                released_value = roas(self.amount(row[21]), self.amount(row[25]))
                released_text = None if released_value is None else format_decimal(released_value)
                if value is not None and released_value is not None:
                    gap_text = format_decimal(value - released_value)
        return {
            "sbu_id": sbu_id,
            "status": status,
            "customer": customer,
            "channel": channel,
            "product": product,
            "need": need,
            "demand": demand,
            "budget": budget,
            "revenue_target": target,
            "performance_known": perf_currency is not None,
            "spend": spend,
            "revenue": revenue,
            "roas": value_text,
            "released_revenue": released,
            "released_roas": released_text,
            "roas_gap": gap_text,
            "performance_as_of": None if row[24] is None else self.time(row[24]),
            "budget_use": use,
            "margin": margin,
            "missing_rates": list(gaps),
        }

    def totals(self, rows: Sequence[Sequence[Any]]) -> Fragment:
        """:func:`totals_of` the live SBUs' budget, spend and revenue, summed in stored units (exact)."""
        units: dict[str, list[int]] = {}
        for row in rows:
            if row[1] == "retired":
                continue
            sums = units.get(row[5])
            if sums is None:
                sums = units[row[5]] = [0, 0, 0, 0]
            sums[0] += row[4]
            if row[23] is not None:
                sums = units.get(row[23])
                if sums is None:
                    sums = units[row[23]] = [0, 0, 0, 0]
                sums[1] += row[21]
                sums[2] += row[22]
                sums[3] += row[25] or 0
        by = {
            currency: {
                "budget": self.amount(b),
                "spend": self.amount(s),
                "revenue": self.amount(r),
                "released_revenue": self.amount(v),
            }
            for currency, (b, s, r, v) in units.items()
        }
        return _json(GridTotals, totals_of(by, self.rates))

    def axis(self, axis: int) -> list[Fragment]:
        items = sorted(self.axes[axis].values(), key=lambda item: (item[0]["name"], item[0]["id"]))
        return [fragment for _, fragment in items]


def grid_json(
    plan_id: str, base_currency: str, rates: Rates, rows: Sequence[Sequence[Any]], status_json: bytes | None
) -> bytes:
    """The grid's answer from its rows (as :func:`rows_statement` reads them) and the customer status's JSON."""
    builder = _Builder(rates)
    cells = [builder.cell(row) for row in rows]
    return orjson.dumps(
        {
            "plan_id": plan_id,
            "base_currency": base_currency,
            "totals": builder.totals(rows),
            "customers": builder.axis(0),
            "channels": builder.axis(1),
            "products": builder.axis(2),
            "cells": cells,
            "customer_status": None if status_json is None else Fragment(status_json),
        }
    )


async def sbu_grid_json(session: AsyncSession, principal: Principal, plan_id: str) -> bytes:
    """`GET /v1/plans/{id}/sbu-grid`'s body (what :func:`services.plans.sbus.grid.sbu_grid` reads back)."""
    plan = await load_plan(session, principal, plan_id)
    rates = Rates.of(plan.base_currency, plan.fx_rates)
    rows = (await session.execute(rows_statement(principal.org_id, plan_id))).all()
    status = await customer_status(session, plan)
    status_json = None if status is None else status.__pydantic_serializer__.to_json(status)
    return grid_json(plan_id, plan.base_currency, rates, rows, status_json)
