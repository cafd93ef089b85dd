from __future__ import annotations

from datetime import date

from pydantic import Field

from services.campaigns.money import ConversionsOut, MoneyOut
from shared.schemas import DecimalStr, Out


class Kpis(Out):
    ctr: DecimalStr | None
    """Click-through rate: clicks / impressions (decimal string); null without impressions."""
    cpc: DecimalStr | None
    """Cost per click: cost / clicks; null without clicks."""
    cpm: DecimalStr | None
    """Cost per thousand impressions; null without impressions."""
    cvr: DecimalStr | None
    """Conversion rate: conversions / clicks; null without clicks."""
    cpa: DecimalStr | None
    """Cost per acquisition: cost / conversions; null without conversions."""
    roas: DecimalStr | None
    """Return on ad spend: revenue / cost; null without cost."""
    roi: DecimalStr | None
    """(revenue − cost) / cost; null without cost."""
    open_rate: DecimalStr | None
    """Opens / sends; null without sends."""


class TotalsOut(Out):
    impressions: int
    """Impressions summed."""
    clicks: int
    """Clicks summed."""
    cost: MoneyOut
    """Spend summed."""
    conversions: ConversionsOut
    """Conversions summed (a decimal string: the platforms count fractions)."""
    revenue: MoneyOut
    """The conversion value the platforms claim (their attribution), summed."""
    sends: int
    """Sends summed."""
    opens: int
    """Opens summed."""
    unsubscribes: int
    """Unsubscribes summed."""


class PerformanceTotals(TotalsOut):
    attributed_orders: int
    """Orders compliance received carrying the campaign's `utm_campaign`."""
    attributed_revenue: MoneyOut = Field(description="released orders naming the campaign, before returns")
    returned_revenue: MoneyOut = Field(description="what customs approved to come back of those orders")


class RoasOut(Out):
    """What the platforms claim beside what XBM verified, in the campaign's currency: never added together."""

    currency: str
    """The campaign's currency, in which every figure here is."""
    spend: MoneyOut
    """What was spent."""
    claimed_value: MoneyOut = Field(description="the platforms' conversion value (revenue of the metric rows)")
    released_revenue: MoneyOut = Field(
        description="customs-released orders naming the campaign (utm_campaign), returns deducted"
    )
    claimed_roas: DecimalStr | None = Field(description="claimed_value / spend; null when nothing was spent")
    released_roas: DecimalStr | None = Field(description="released_revenue / spend; null when nothing was spent")
    gap: DecimalStr | None = Field(description="claimed_roas - released_roas: how much the platforms over-claim")


class Pacing(Out):
    budget: MoneyOut
    """The budget."""
    spend: MoneyOut
    """What was spent up to `as_of`."""
    as_of: date
    """The day pacing is computed for."""
    days_elapsed: int
    """Days run up to and including `as_of`."""
    days_total: int
    """Days from the first to the last, both included."""
    pacing: DecimalStr | None
    """(spend / budget) ÷ (days elapsed / days total) (decimal string): 1 is on pace, above 1 overspending; null
    before the start or without budget."""


class DayOut(TotalsOut):
    date: date
    """The day."""
    kpis: Kpis
    """The day's KPIs."""


class PerformanceOut(Out):
    currency: str
    """The currency of every amount (the campaign's)."""
    totals: PerformanceTotals
    """Figures summed over every day."""
    kpis: Kpis
    """KPIs over every day."""
    roas: RoasOut
    """The platforms' claimed ROAS beside the released ROAS XBM verified from customs-released orders."""
    pacing: Pacing
    """Spend against budget and time."""
    by_day: list[DayOut]
    """Each day's figures, oldest first."""


class CampaignPerformanceOut(PerformanceOut):
    campaign_id: str
    """The campaign."""


class SbuPerformanceOut(PerformanceOut):
    sbu_id: str
    """The SBU whose campaigns are summed."""
    campaign_count: int
    """How many campaigns count."""
