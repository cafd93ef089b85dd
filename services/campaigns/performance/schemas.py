from __future__ import annotations

from datetime import date

from pydantic import Field

from services.campaigns.money import ConversionsOut, MoneyOut
from shared.schemas import DecimalStr, Out


class Kpis(Out):
    ctr: DecimalStr | None
    cpc: DecimalStr | None
    cpm: DecimalStr | None
    cvr: DecimalStr | None
    cpa: DecimalStr | None
    roas: DecimalStr | None
    roi: DecimalStr | None
    open_rate: DecimalStr | None


class TotalsOut(Out):
    impressions: int
    clicks: int
    cost: MoneyOut
    conversions: ConversionsOut
    revenue: MoneyOut = Field(description="the conversion value the platforms claim (their attribution)")
    sends: int
    opens: int
    unsubscribes: int


class PerformanceTotals(TotalsOut):
    attributed_orders: int
    attributed_revenue: MoneyOut = Field(description="released orders naming the campaign, before returns")
    returned_revenue: MoneyOut = Field(description="what customs approved to come back of those orders")


class RoasOut(Out):
    """What the platforms claim beside what XBM verified, in the campaign's currency: never added together."""

    currency: str
    spend: MoneyOut
    claimed_value: MoneyOut = Field(description="the platforms' conversion value (revenue of the metric rows)")
    released_revenue: MoneyOut = Field(
        description="customs-released orders naming the campaign (utm_campaign), returns deducted"
    )
    claimed_roas: DecimalStr | None = Field(description="claimed_value / spend; null when nothing was spent")
    released_roas: DecimalStr | None = Field(description="released_revenue / spend; null when nothing was spent")
    gap: DecimalStr | None = Field(description="claimed_roas - released_roas: how much the platforms over-claim")


class Pacing(Out):
    budget: MoneyOut
    spend: MoneyOut
    as_of: date
    days_elapsed: int
    days_total: int
    pacing: DecimalStr | None


class DayOut(TotalsOut):
    date: date
    kpis: Kpis


class PerformanceOut(Out):
    currency: str
    totals: PerformanceTotals
    kpis: Kpis
    roas: RoasOut
    pacing: Pacing
    by_day: list[DayOut]


class CampaignPerformanceOut(PerformanceOut):
    campaign_id: str


class SbuPerformanceOut(PerformanceOut):
    sbu_id: str
    campaign_count: int
