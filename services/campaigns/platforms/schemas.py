"""The answer of an import: rows per campaign, platform campaigns no campaign names, rows skipped and why."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from services.campaigns.money import ConversionsOut
from shared.schemas import Out


class ConversionsAboveClicks(Out):
    """A day with more conversions than clicks: kept (view-through, several per click), and shown."""

    date: date
    """The day (in the ad account's time zone)."""
    clicks: int
    """Clicks that day."""
    conversions: ConversionsOut
    """Conversions that day, as the platform counted them (decimal string)."""
    view_through_conversions: ConversionsOut | None = Field(
        description="the conversions the platform attributes to views, when the report says"
    )


class ImportedCampaign(Out):
    campaign_id: str
    """The XBM campaign the rows were placed on."""
    platform: str
    """The platform the report came from."""
    platform_campaign_id: str
    """The platform's own campaign id the rows named."""
    account_id: str | None
    """The ad account the rows named; null when the report names none."""
    rows: int = Field(description="the report's rows placed on this campaign")
    days: int = Field(description="the days written (rows of one day are summed)")
    from_: date | None = Field(alias="from", description="The first day written; null when none.")
    to: date | None
    """The last day written; null when none."""
    conversions_above_clicks: list[ConversionsAboveClicks]
    """Days with more conversions than clicks (view-through or several per click): kept, and shown here."""
    attribution_window: str | None = Field(None, description="Amazon Ads: the window counted")


class UnknownCampaign(Out):
    platform: str
    """The platform the report came from."""
    account_id: str | None
    """The ad account the rows named; null when none."""
    campaign_id: str
    """The platform campaign id that no campaign's `external_refs` names."""
    rows: int
    """How many of the report's rows name it (not stored)."""
    reason: str
    """Why its rows were not stored, in words."""


class SkippedRow(Out):
    row: str
    """Which row of the report (its number, or its key fields)."""
    reason: str
    """Why it was skipped, in words."""


class ImportOut(Out):
    format: str
    """The report format read (named in the request, or recognised)."""
    platform: str
    """The platform that wrote the report."""
    rows_read: int
    """Rows the report held."""
    campaigns: list[ImportedCampaign]
    """Per campaign: the rows placed on it and the days written."""
    unknown: list[UnknownCampaign] = Field(
        description="platform campaigns no campaign names: their rows are not stored"
    )
    skipped: list[SkippedRow]
    """Rows not used, with the reason (totals, another time grain, no figures …)."""
