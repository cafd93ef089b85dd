"""Exchange rates a plan keeps to its base currency, and the one way XBM converts money with them.

A rate says how many units of the plan's base currency one unit of ``currency`` was worth ``as_of`` a date,
according to ``source``. Every conversion names the rates it used, so a reader can check the figure; without a
rate nothing is converted (figures stay side by side) and :func:`missing` tells readiness which rate to add.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from shared.schemas import format_decimal

CENT = Decimal("0.0001")


@dataclass(frozen=True)
class Converted:
    amount: Decimal
    currency: str
    #: the rates applied, each as the plan keeps it ({currency, rate, as_of, source})
    rates: tuple[dict[str, str], ...]

    def rate_text(self) -> str:
        return "; ".join(f"1 {r['currency']} = {r['rate']} (as of {r['as_of']}, {r['source']})" for r in self.rates)


@dataclass(frozen=True)
class Rates:
    base: str
    by_currency: dict[str, dict[str, str]]

    @classmethod
    def of(cls, base: str, fx_rates: Iterable[dict[str, Any]] | None) -> Rates:
        return cls(base, {str(r["currency"]): {k: str(v) for k, v in r.items()} for r in fx_rates or []})

    def known(self, currency: str) -> bool:
        return currency == self.base or currency in self.by_currency

    def convert(self, amount: Decimal, currency: str, to: str | None = None) -> Converted | None:
        """``amount`` of ``currency`` in ``to`` (default: the base), through the base; None without the rates."""
        to = to or self.base
        if currency == to:
            return Converted(amount, to, ())
        if not (self.known(currency) and self.known(to)):
            return None
        used: list[dict[str, str]] = []
        value = amount
        if currency != self.base:
            rate = self.by_currency[currency]
            value = value * Decimal(rate["rate"])
            used.append(rate)
        if to != self.base:
            rate = self.by_currency[to]
            value = value / Decimal(rate["rate"])
            used.append(rate)
        return Converted(value.quantize(CENT, rounding=ROUND_HALF_EVEN), to, tuple(used))


def missing(rates: Rates, currencies: Iterable[str]) -> list[str]:
    """The currencies among ``currencies`` the plan has no rate for, sorted."""
    return sorted({c for c in currencies if c and not rates.known(c)})


def described(converted: Converted) -> dict[str, Any]:
    """A conversion as the API shows it: the amount in its currency and the rates named."""
    return {
        "amount": format_decimal(converted.amount),
        "currency": converted.currency,
        "rates": [dict(r) for r in converted.rates],
    }
