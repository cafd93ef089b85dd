"""Campaigns: creation on a live SBU, edits, the lifecycle, metrics upserts and order attribution.

Event emission points (one function each, so publishing is one added line):
- ``change_status``         → ``campaign.status_changed``
- ``sbu_performance_changed`` → ``sbu.performance_changed``

Every write to a campaign and its figures stays here, beside the emission points above, so a new write is seen
next to the events the others publish (how a metric row reaches its table: metric_rows.py).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any, Literal

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.campaigns.lifecycle import allowed_moves, can_move
from services.campaigns.campaigns.metric_rows import (
    FIGURES,
    KEY,
    MONEY_FIELDS,
    UPSERT_ARRAYS,
    array_parameters,
    row_parameters,
)
from services.campaigns.campaigns.models import AttributedOrder, Campaign, ExternalRef, MetricRow
from services.campaigns.campaigns.schemas import CampaignIn, CampaignPatch, MetricsIn, campaign_out
from services.campaigns.campaigns.schemas import ExternalRef as ExternalRefIn
from services.campaigns.contracts import CampaignStatusChanged
from services.campaigns.event_nodes.models import EventNode
from services.campaigns.events import mark_sbu_changed, publish
from services.campaigns.kinds.service import settings_schema_of
from services.campaigns.kinds.validation import validate_settings
from services.campaigns.plans import live_sbu
from services.plans.client import PlansClient
from shared.auth import Principal
from shared.db import dialect_insert, get_scoped, new_id, scoped, utcnow
from shared.errors import Conflict, FieldError
from shared.etag import Precondition

UTM_TAKEN = "utm_campaign {!r} is already used by another campaign of this organisation"


async def _check_event_node(session: AsyncSession, org_id: str, node_id: str | None, currency: str) -> None:
    if node_id is None:
        return
    node = (await session.execute(scoped(EventNode, org_id).where(EventNode.id == node_id))).scalar_one_or_none()
    if node is None:
        raise FieldError("event_node_id", f"no event node {node_id} in this organisation")
    if node.currency != currency:
        raise FieldError(
            ("budget", "currency"),
            f"event node {node_id} budgets in {node.currency}; the campaign's budget is in {currency}",
        )


async def _check_sbu_currency(session: AsyncSession, org_id: str, sbu_id: str, currency: str) -> None:
    """All campaigns of one SBU count in one currency, so the SBU's performance can be summed."""
    stmt = select(Campaign.currency).where(Campaign.org_id == org_id, Campaign.sbu_id == sbu_id).limit(1)
    existing = (await session.execute(stmt)).scalar_one_or_none()
    if existing is not None and existing != currency:
        raise FieldError(
            ("budget", "currency"), f"the other campaigns of SBU {sbu_id} budget in {existing}; use {existing}"
        )


async def _flush_unique_utm(session: AsyncSession, utm: str | None) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(UTM_TAKEN.format(utm)) from exc


def _refs_json(refs: list[ExternalRefIn]) -> list[dict[str, Any]]:
    return [r.model_dump(exclude_none=True) for r in refs]


async def _set_external_refs(session: AsyncSession, campaign: Campaign, refs: list[ExternalRefIn]) -> None:
    """The campaign's platform ids, replacing those it had. A platform campaign another campaign of the
    organisation already claims is 409 (a report row must land on one campaign only)."""
    keys = [(r.platform, r.campaign_id) for r in refs]
    if keys:
        stmt = select(ExternalRef.platform, ExternalRef.external_id, ExternalRef.campaign_id).where(
            ExternalRef.org_id == campaign.org_id,
            ExternalRef.external_id.in_([k[1] for k in keys]),
            ExternalRef.campaign_id != campaign.id,
        )
        for platform, external_id, other in (await session.execute(stmt)).all():
            if (platform, external_id) in keys:
                raise Conflict(f"{platform} campaign {external_id} already names campaign {other}")
    await session.execute(
        delete(ExternalRef).where(ExternalRef.org_id == campaign.org_id, ExternalRef.campaign_id == campaign.id)
    )
    for ref in refs:
        session.add(
            ExternalRef(
                org_id=campaign.org_id,
                campaign_id=campaign.id,
                platform=ref.platform,
                external_id=ref.campaign_id,
                account_id=ref.account_id,
            )
        )
    campaign.external_refs = _refs_json(refs)
    try:
        await session.flush()
    except IntegrityError as exc:  # claimed by another campaign meanwhile
        raise Conflict("a platform campaign in external_refs was just claimed by another campaign") from exc


async def create_campaign(
    session: AsyncSession, plans: PlansClient, principal: Principal, body: CampaignIn
) -> Campaign:
    org_id = principal.org_id
    schema = await settings_schema_of(session, org_id, body.kind)
    validate_settings(schema, body.settings)
    await _check_event_node(session, org_id, body.event_node_id, body.budget.currency)
    await _check_sbu_currency(session, org_id, body.sbu_id, body.budget.currency)
    await live_sbu(plans, principal, body.sbu_id)
    campaign = Campaign(
        org_id=org_id,
        sbu_id=body.sbu_id,
        kind=body.kind,
        name=body.name,
        budget_amount=body.budget.amount,
        currency=body.budget.currency,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        event_node_id=body.event_node_id,
        utm_campaign=body.utm_campaign,
        settings=body.settings,
        external_refs=[],
        status="draft",
    )
    session.add(campaign)
    await _flush_unique_utm(session, body.utm_campaign)
    if body.external_refs:
        await _set_external_refs(session, campaign, body.external_refs)
    return campaign


async def _unchanged(session: AsyncSession, org_id: str, campaign_id: str, precondition: Precondition) -> Campaign:
    """The campaign a write changes, while the client's copy (If-Match, when given) still shows it."""
    campaign = await get_campaign(session, org_id, campaign_id)
    precondition(campaign_out(campaign))
    return campaign


async def update_campaign(
    session: AsyncSession, org_id: str, campaign_id: str, body: CampaignPatch, precondition: Precondition
) -> Campaign:
    campaign = await _unchanged(session, org_id, campaign_id, precondition)
    changes = body.model_dump(exclude_unset=True)
    if "budget" in changes and body.budget is not None:
        if body.budget.currency != campaign.currency:
            raise FieldError(
                ("budget", "currency"),
                f"a campaign keeps its currency ({campaign.currency}); its metrics are counted in it",
            )
        campaign.budget_amount = body.budget.amount
    for field in ("name", "starts_on", "ends_on", "utm_campaign"):
        if field in changes:
            if changes[field] is None and field != "utm_campaign":
                raise FieldError(field, f"{field} cannot be null")
            setattr(campaign, field, changes[field])
    if campaign.ends_on < campaign.starts_on:
        raise FieldError("ends_on", "ends_on must not be before starts_on")
    if "event_node_id" in changes:
        await _check_event_node(session, campaign.org_id, body.event_node_id, campaign.currency)
        campaign.event_node_id = body.event_node_id
    if "settings" in changes:
        if body.settings is None:
            raise FieldError("settings", "settings cannot be null")
        validate_settings(await settings_schema_of(session, campaign.org_id, campaign.kind), body.settings)
        campaign.settings = body.settings
    await _flush_unique_utm(session, campaign.utm_campaign)
    if "external_refs" in changes:
        if body.external_refs is None:
            raise FieldError("external_refs", "external_refs cannot be null; send [] to remove them all")
        await _set_external_refs(session, campaign, body.external_refs)
    return campaign


async def transition(
    session: AsyncSession, org_id: str, campaign_id: str, to: str, precondition: Precondition
) -> Campaign:
    """Move the campaign to ``to``; with If-Match, only from the state the client's copy shows."""
    return await change_status(session, await _unchanged(session, org_id, campaign_id, precondition), to)


async def change_status(session: AsyncSession, campaign: Campaign, to: str) -> Campaign:
    """Move a campaign to ``to`` if its lifecycle allows it. The one place a campaign's status changes:
    publish ``campaign.status_changed`` {campaign_id, sbu_id, from, to} here."""
    current = campaign.status
    if not can_move(current, to):
        raise Conflict(f"a {current} campaign cannot become {to}", current=current, allowed=allowed_moves(current))
    # conditional update: two concurrent moves from the same state cannot both succeed
    result = await session.execute(
        update(Campaign)
        .where(Campaign.id == campaign.id, Campaign.org_id == campaign.org_id, Campaign.status == current)
        .values(status=to, updated_at=utcnow(), version=Campaign.version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("the campaign's status changed meanwhile; read it again")
    await session.refresh(campaign)
    changed = CampaignStatusChanged(campaign_id=campaign.id, sbu_id=campaign.sbu_id, from_=current, to=to)
    await publish(session, campaign.org_id, changed, campaign.updated_at)
    return campaign


async def pause_campaigns_of_sbu(session: AsyncSession, org_id: str, sbu_id: str) -> list[Campaign]:
    """``sbu.retired`` consumer: the running and scheduled campaigns of a retired SBU are paused, so they stop
    spending on a business model that no longer exists (a person decides later whether to cancel them)."""
    stmt = scoped(Campaign, org_id).where(Campaign.sbu_id == sbu_id, Campaign.status.in_(("running", "scheduled")))
    moved = []
    for campaign in (await session.execute(stmt)).scalars().all():
        moved.append(await change_status(session, campaign, "paused"))
    return moved


# --- metrics ---------------------------------------------------------------------------------------------


def _check_rows(campaign: Campaign, body: MetricsIn) -> None:
    """Every row inside the campaign's days (unless a backfill) and in its currency; the first row that is
    not is named. One pass over each column; the row-by-row walk runs only to name the offending row."""
    rows = body.rows
    dates = [row.date for row in rows]
    inside = body.backfill or (campaign.starts_on <= min(dates) and max(dates) <= campaign.ends_on)
    currencies = {money.currency for field in MONEY_FIELDS for money in map(attrgetter(field), rows)}
    if inside and currencies == {campaign.currency}:
        return
    for index, row in enumerate(rows):
        if not body.backfill and not campaign.starts_on <= row.date <= campaign.ends_on:
            raise FieldError(
                ("rows", index, "date"),
                f"rows[{index}] is dated {row.date}, outside the campaign ({campaign.starts_on} – {campaign.ends_on}); "
                "send backfill: true to record it anyway",
            )
        for field in MONEY_FIELDS:
            if getattr(row, field).currency != campaign.currency:
                raise FieldError(
                    ("rows", index, field, "currency"),
                    f"rows[{index}].{field} is in {getattr(row, field).currency}; this campaign counts in "
                    f"{campaign.currency}",
                )


async def record_metrics(session: AsyncSession, campaign: Campaign, body: MetricsIn) -> int:
    """Upsert daily rows by (date, variant) in one statement (services/campaigns/campaigns/metric_rows.py): on
    PostgreSQL one array per column, so neither SQLAlchemy nor the driver handles 1,000 parameter sets;
    elsewhere one INSERT … ON CONFLICT DO UPDATE, compiled once (and cached), with a parameter set per row."""
    _check_rows(campaign, body)
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(UPSERT_ARRAYS, array_parameters(campaign.org_id, campaign.id, body.rows))
    else:
        # the table, not the ORM entity: an ORM bulk insert walks each parameter set through the unit of
        # work's insert bookkeeping first (the same one statement is sent either way)
        stmt = dialect_insert(session, MetricRow.__table__)
        stmt = stmt.on_conflict_do_update(
            index_elements=list(KEY),
            set_={**{f: stmt.excluded[f] for f in FIGURES}, "updated_at": stmt.excluded.updated_at},
        )
        await session.execute(stmt, row_parameters(campaign.org_id, campaign.id, body.rows))
    await sbu_performance_changed(session, campaign.org_id, campaign.sbu_id)
    return len(body.rows)


async def sbu_performance_changed(session: AsyncSession, org_id: str, sbu_id: str) -> None:
    """The one place where an SBU's performance changes: marks it, and the relay publishes one
    ``sbu.performance_changed`` per marked SBU (plans reads the figures into its SBU grid)."""
    await mark_sbu_changed(session, org_id, sbu_id)


# --- attribution (``order.released`` consumer) --------------------------------------------------------------

Attribution = Literal["attributed", "duplicate", "unknown_campaign", "currency_mismatch"]


async def attribute_order(
    session: AsyncSession,
    org_id: str,
    utm_campaign: str,
    order_key: str,
    amount: Decimal,
    currency: str,
    released_at: datetime,
) -> Attribution:
    """Attribute a released order to the campaign its ``utm_campaign`` names. Idempotent per ``order_key``:
    a redelivery changes nothing. Orders in another currency than the campaign's are not summed."""
    stmt = scoped(Campaign, org_id).where(Campaign.utm_campaign == utm_campaign)
    campaign = (await session.execute(stmt)).scalar_one_or_none()
    if campaign is None:
        return "unknown_campaign"
    if currency != campaign.currency:
        return "currency_mismatch"
    now = utcnow()
    row = {
        "id": new_id(),
        "org_id": org_id,
        "campaign_id": campaign.id,
        "order_key": order_key,
        "amount": amount,
        "currency": currency,
        "released_at": released_at,
        "created_at": now,
        "updated_at": now,
    }
    result = await session.execute(
        dialect_insert(session, AttributedOrder)
        .values(row)
        .on_conflict_do_nothing(index_elements=["org_id", "order_key"])
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return "duplicate"
    await sbu_performance_changed(session, org_id, campaign.sbu_id)
    return "attributed"


async def deduct_return(session: AsyncSession, org_id: str, order_key: str, returned: Decimal) -> str:
    """``order.returned``: what came back of an attributed order (the total so far, so a redelivery or an
    older event never deducts twice; never more than the order's amount). ``unknown_order`` when the order
    was never attributed (no campaign, another currency)."""
    stmt = select(AttributedOrder).where(AttributedOrder.org_id == org_id, AttributedOrder.order_key == order_key)
    order = (await session.execute(stmt.with_for_update())).scalar_one_or_none()
    if order is None:
        return "unknown_order"
    amount = min(max(returned, Decimal(0)), order.amount)
    if amount <= order.returned_amount:
        return "duplicate"
    order.returned_amount = amount
    campaign = await session.get(Campaign, order.campaign_id)
    await session.flush()
    if campaign is not None:
        await sbu_performance_changed(session, org_id, campaign.sbu_id)
    return "deducted"


async def get_campaign(session: AsyncSession, org_id: str, campaign_id: str) -> Campaign:
    return await get_scoped(session, Campaign, campaign_id, org_id)
