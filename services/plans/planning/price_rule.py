"""The price-ceiling rule: a product's price may not exceed its ceiling (Company A: at most twice the cost of a round
of golf), compared in one currency or through the plan's exchange rates.

Written once, as a pure function over plain values: the tactical layer refuses a product that breaks it (422 on
``price``), and readiness reports a stored product that breaks it (``price_above_ceiling``), both with the words of
:meth:`PriceAboveCeiling.message`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from services.plans.planning.fx import Converted, Rates
from shared.schemas import format_decimal


@dataclass(frozen=True)
class PriceAboveCeiling:
    """A price above its ceiling; ``converted`` is the price in the ceiling's currency when the two differ."""

    amount: Decimal
    currency: str
    ceiling: Decimal
    ceiling_currency: str
    converted: Converted | None = None

    def message(self) -> str:
        shown = f"price {format_decimal(self.amount)} {self.currency}"
        if self.converted is not None:
            shown += (
                f" (= {format_decimal(self.converted.amount)} {self.ceiling_currency} at {self.converted.rate_text()})"
            )
        return f"{shown} is above its ceiling {format_decimal(self.ceiling)} {self.ceiling_currency}"


def price_above_ceiling(price: tuple, ceiling: tuple | None, rates: Rates | None = None) -> PriceAboveCeiling | None:
    """The breach of the rule, or None. A ceiling in another currency is compared through the plan's exchange rates,
    naming the rate; without the rate nothing is compared (readiness warns of the missing rate)."""
    if ceiling is None or ceiling[0] is None:
        return None
    (amount, currency), (limit, limit_currency) = price, ceiling
    converted = None
    compared = amount
    if currency != limit_currency:
        converted = rates.convert(amount, currency, limit_currency) if rates else None
        if converted is None:
            return None
        compared = converted.amount
    if compared > limit:
        return PriceAboveCeiling(amount, currency, limit, limit_currency, converted)
    return None


def price_problem(price: tuple, ceiling: tuple | None, rates: Rates | None = None) -> str | None:
    """Why a price breaks its ceiling, in words, or None."""
    breach = price_above_ceiling(price, ceiling, rates)
    return breach.message() if breach else None
