"""Campaign KPIs (docs/flows.md), pure functions over Decimal totals. A zero denominator gives None."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

PLACES = Decimal("0.000001")


def ratio(numerator: Decimal | int, denominator: Decimal | int) -> Decimal | None:
    """numerator/denominator to 6 decimal places (half-even), or None when the denominator is zero."""
    if denominator == 0:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(PLACES, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class Totals:
    impressions: int = 0
    clicks: int = 0
    cost: Decimal = Decimal(0)
    conversions: Decimal = Decimal(0)
    revenue: Decimal = Decimal(0)
    sends: int = 0
    opens: int = 0
    unsubscribes: int = 0


def kpis(t: Totals) -> dict[str, Decimal | None]:
    return {
        "ctr": ratio(t.clicks, t.impressions),
        "cpc": ratio(t.cost, t.clicks),
        "cpm": ratio(1000 * t.cost, t.impressions),
        "cvr": ratio(t.conversions, t.clicks),
        "cpa": ratio(t.cost, t.conversions),
        "roas": ratio(t.revenue, t.cost),
        "roi": ratio(t.revenue - t.cost, t.cost),
        "open_rate": ratio(t.opens, t.sends),
    }


def days_elapsed(starts_on: date, ends_on: date, as_of: date) -> tuple[int, int]:
    """(days elapsed up to and including ``as_of``, total days), both counting the first and last day."""
    total = (ends_on - starts_on).days + 1
    elapsed = min(max((as_of - starts_on).days + 1, 0), total)
    return elapsed, total


def pacing(spend: Decimal, budget: Decimal, elapsed: int, total: int) -> Decimal | None:
    """Budget pacing = (spend/budget) ÷ (days elapsed/total days); 1 is on pace, above 1 overspending."""
    if budget == 0 or elapsed == 0 or total == 0:
        return None
    return ratio(spend * total, budget * elapsed)
