"""The price-ceiling rule: a product's price may not exceed its ceiling (Company A: at most twice the cost of a round
of golf), compared in one currency or through the plan's exchange rates."""

from __future__ import annotations

from services.plans.planning.fx import Rates
from shared.schemas import format_decimal


def price_problem(price: tuple, ceiling: tuple | None, rates: Rates | None = None) -> str | None:
    """Why a price breaks its ceiling, or None. A ceiling in another currency is compared through the plan's
    exchange rates, naming the rate; without the rate nothing is compared (readiness warns of the missing rate)."""
    if ceiling is None or ceiling[0] is None:
        return None
    (amount, currency), (limit, limit_currency) = price, ceiling
    shown = f"price {format_decimal(amount)} {currency}"
    if currency != limit_currency:
        converted = rates.convert(amount, currency, limit_currency) if rates else None
        if converted is None:
            return None
        shown += f" (= {format_decimal(converted.amount)} {limit_currency} at {converted.rate_text()})"
        amount = converted.amount
    if amount > limit:
        return f"{shown} is above its ceiling {format_decimal(limit)} {limit_currency}"
    return None
