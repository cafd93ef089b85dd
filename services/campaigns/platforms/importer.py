"""An imported report fanned out to the campaigns it names: each platform campaign found through the campaigns'
``external_refs``, its rows summed per day and written as the campaign's metric rows (variant ''), upserted by
day — so the same report again changes nothing and a newer one replaces the days it covers. Rows for platform
campaigns no campaign names are listed, never dropped silently; a figure no platform could report (negative,
clicks above impressions, opens above sends) refuses the whole import (422) and nothing is stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.campaigns.models import Campaign, ExternalRef
from services.campaigns.campaigns.schemas import MAX_METRIC_ROWS, MetricsIn
from services.campaigns.campaigns.service import record_metrics
from services.campaigns.platforms.parsers import AMAZON_WINDOWS, Options, Parsed, PlatformRow, Skipped
from shared.errors import FieldError, Unprocessable

MONEY_PLACES = Decimal("0.000001")


@dataclass
class _Day:
    """One campaign's figures on one day, summed over the report's rows for it."""

    impressions: int = 0
    clicks: int = 0
    cost: Decimal = Decimal(0)
    conversions: Decimal = Decimal(0)
    value: Decimal = Decimal(0)
    sends: int = 0
    opens: int = 0
    unsubscribes: int = 0
    view_through: Decimal | None = None
    rows: int = 0

    def add(self, row: PlatformRow, purchases: Decimal, value: Decimal) -> None:
        self.impressions += row.impressions
        self.clicks += row.clicks
        self.cost += row.cost
        self.conversions += purchases
        self.value += value
        self.sends += row.sends
        self.opens += row.opens
        self.unsubscribes += row.unsubscribes
        if row.view_through is not None:
            self.view_through = (self.view_through or Decimal(0)) + row.view_through
        self.rows += 1


@dataclass
class _Placed:
    campaign: Campaign
    ref: ExternalRef
    days: dict[date, _Day] = field(default_factory=dict)
    window: str | None = None


def _window(campaign: Campaign, ref: ExternalRef, row: PlatformRow, options: Options) -> str | None:
    """Amazon: the attribution window this campaign counts in — its external ref's, else the import's, else 7d
    when the report has it (Sponsored Products' own), else the report's only one."""
    declared = next(
        (
            r.get("attribution_window")
            for r in campaign.external_refs or []
            if r.get("platform") == ref.platform and r.get("campaign_id") == ref.external_id
        ),
        None,
    )
    for choice in (declared, options.amazon_window):
        if choice:
            return str(choice)
    if "7d" in row.windows:
        return "7d"
    return next((w for w in AMAZON_WINDOWS if w in row.windows), None)


def _money(amount: Decimal, where: str) -> str:
    """An exact amount to 6 places (micros); a platform's amount needing more is refused, never rounded."""
    if amount != amount.quantize(MONEY_PLACES):
        raise Unprocessable(f"{where}: {amount} has more than 6 decimal places; XBM keeps metric money in micros")
    return format(amount.quantize(MONEY_PLACES).normalize(), "f")


def _value(amount: Decimal) -> str:
    """A claimed conversion value: the platforms send it as a double, so past micros it is rounded half-even."""
    return format(amount.quantize(MONEY_PLACES).normalize(), "f")


CONVERSION_PLACES = Decimal("0.000001")


def _conversions(value: Decimal) -> Decimal | int:
    """Conversions to XBM's 6 places (a modelled fraction past them is rounded half-even: docs/ad-platforms.md)."""
    rounded = value.quantize(CONVERSION_PLACES)
    return int(rounded) if rounded == rounded.to_integral_value() else rounded.normalize()


async def import_report(
    session: AsyncSession, org_id: str, parsed: Parsed, options: Options, backfill: bool
) -> dict[str, Any]:
    platform = parsed.platform
    ids = sorted({row.campaign_id for row in parsed.rows})
    refs: dict[str, ExternalRef] = {}
    campaigns: dict[str, Campaign] = {}
    if ids:
        stmt = (
            select(ExternalRef, Campaign)
            .join(Campaign, Campaign.id == ExternalRef.campaign_id)
            .where(ExternalRef.org_id == org_id, ExternalRef.platform == platform, ExternalRef.external_id.in_(ids))
        )
        for ref, campaign in (await session.execute(stmt)).all():
            refs[ref.external_id] = ref
            campaigns[campaign.id] = campaign

    placed: dict[str, _Placed] = {}
    unknown: dict[tuple[str | None, str], dict[str, Any]] = {}
    skipped: list[Skipped] = list(parsed.skipped)
    for row in parsed.rows:
        found = refs.get(row.campaign_id)
        if found is None or (found.account_id and row.account_id and found.account_id != row.account_id):
            unplaced = unknown.setdefault(
                (row.account_id, row.campaign_id),
                {
                    "platform": platform,
                    "account_id": row.account_id,
                    "campaign_id": row.campaign_id,
                    "rows": 0,
                    "reason": "no campaign names this platform campaign in its external_refs"
                    if found is None
                    else f"the campaign naming it is in account {found.account_id}, the report's row in "
                    f"{row.account_id}",
                },
            )
            unplaced["rows"] += 1
            continue
        ref = found
        campaign = campaigns[ref.campaign_id]
        target = placed.setdefault(campaign.id, _Placed(campaign, ref))
        where = f"{platform} campaign {row.campaign_id} on {row.day}"
        currency = row.currency
        if currency is None:
            if row.cost or row.value:
                raise Unprocessable(
                    f"{where}: the report carries no currency; say the account's currency (currency=XXX)"
                )
            currency = campaign.currency
        if currency != campaign.currency:
            skipped.append(Skipped(where, f"in {currency}; campaign {campaign.id} counts in {campaign.currency}"))
            continue
        if not backfill and not campaign.starts_on <= row.day <= campaign.ends_on:
            skipped.append(
                Skipped(
                    where,
                    f"outside campaign {campaign.id} ({campaign.starts_on} – {campaign.ends_on}); "
                    "import with backfill=true to record it",
                )
            )
            continue
        purchases, value = row.conversions, row.value
        if row.windows:
            target.window = target.window or _window(campaign, ref, row, options)
            purchases, value = row.windows.get(target.window or "", (Decimal(0), Decimal(0)))
        target.days.setdefault(row.day, _Day()).add(row, purchases, value)

    # every campaign's rows checked before any is written: a refused import stores nothing
    bodies: list[tuple[_Placed, list[MetricsIn]]] = []
    for target in placed.values():
        rows = []
        for day, figures in sorted(target.days.items()):
            where = f"{platform} campaign {target.ref.external_id} on {day}"
            rows.append(
                {
                    "date": day.isoformat(),
                    "impressions": figures.impressions,
                    "clicks": figures.clicks,
                    "cost": {"amount": _money(figures.cost, f"{where}: cost"), "currency": target.campaign.currency},
                    "conversions": _conversions(figures.conversions),
                    "revenue": {
                        "amount": _value(figures.value),
                        "currency": target.campaign.currency,
                    },
                    "sends": figures.sends,
                    "opens": figures.opens,
                    "unsubscribes": figures.unsubscribes,
                }
            )
        chunks = []
        for start in range(0, len(rows), MAX_METRIC_ROWS):
            try:
                chunks.append(
                    MetricsIn.model_validate({"rows": rows[start : start + MAX_METRIC_ROWS], "backfill": True})
                )
            except ValidationError as exc:
                error = exc.errors(include_url=False)[0]
                index = error["loc"][1] if len(error["loc"]) > 1 and isinstance(error["loc"][1], int) else 0
                failed_day = rows[start + index]["date"]
                message = str(error["msg"]).removeprefix("Value error, ")
                raise FieldError(
                    ("rows", start + index),
                    f"{platform} campaign {target.ref.external_id} on {failed_day}: {message}",
                ) from None
        bodies.append((target, chunks))

    out_campaigns = []
    for target, chunks in bodies:
        for body in chunks:
            await record_metrics(session, target.campaign, body)
        days = sorted(target.days)
        view_through = [
            {
                "date": day.isoformat(),
                "clicks": f.clicks,
                "conversions": f.conversions,
                "view_through_conversions": f.view_through,
            }
            for day, f in sorted(target.days.items())
            if f.conversions > f.clicks
        ]
        entry: dict[str, Any] = {
            "campaign_id": target.campaign.id,
            "platform": platform,
            "platform_campaign_id": target.ref.external_id,
            "account_id": target.ref.account_id,
            "rows": sum(f.rows for f in target.days.values()),
            "days": len(days),
            "from": days[0].isoformat() if days else None,
            "to": days[-1].isoformat() if days else None,
            "conversions_above_clicks": view_through,
        }
        if target.window:
            entry["attribution_window"] = target.window
        out_campaigns.append(entry)
    return {
        "format": parsed.format,
        "platform": platform,
        "rows_read": parsed.read,
        "campaigns": out_campaigns,
        "unknown": list(unknown.values()),
        "skipped": [s.out() for s in skipped],
    }
