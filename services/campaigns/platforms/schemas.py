"""The answer of an import: rows per campaign, platform campaigns no campaign names, rows skipped and why."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from services.campaigns.money import ConversionsOut
from shared.schemas import Out


class ConversionsAboveClicks(Out):
    """A day with more conversions than clicks: kept (view-through, several per click), and shown."""

    date: date
    clicks: int
    conversions: ConversionsOut
    view_through_conversions: ConversionsOut | None = Field(
        description="the conversions the platform attributes to views, when the report says"
    )


class ImportedCampaign(Out):
    campaign_id: str
    platform: str
    platform_campaign_id: str
    account_id: str | None
    rows: int = Field(description="the report's rows placed on this campaign")
    days: int = Field(description="the days written (rows of one day are summed)")
    from_: date | None = Field(alias="from")
    to: date | None
    conversions_above_clicks: list[ConversionsAboveClicks]
    attribution_window: str | None = Field(None, description="Amazon Ads: the window counted")


class UnknownCampaign(Out):
    platform: str
    account_id: str | None
    campaign_id: str
    rows: int
    reason: str


class SkippedRow(Out):
    row: str
    reason: str


class ImportOut(Out):
    format: str
    platform: str
    rows_read: int
    campaigns: list[ImportedCampaign]
    unknown: list[UnknownCampaign] = Field(
        description="platform campaigns no campaign names: their rows are not stored"
    )
    skipped: list[SkippedRow]
