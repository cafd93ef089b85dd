from __future__ import annotations

from datetime import date

from services.campaigns.money import MoneyOut
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
    conversions: int
    revenue: MoneyOut
    sends: int
    opens: int
    unsubscribes: int


class PerformanceTotals(TotalsOut):
    attributed_orders: int
    attributed_revenue: MoneyOut


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
    pacing: Pacing
    by_day: list[DayOut]


class CampaignPerformanceOut(PerformanceOut):
    campaign_id: str


class SbuPerformanceOut(PerformanceOut):
    sbu_id: str
    campaign_count: int
