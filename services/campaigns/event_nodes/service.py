"""Platform event nodes: budgets, and their spend and pacing from the campaigns linked to them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.campaigns.models import Campaign, MetricRow
from services.campaigns.event_nodes.models import EventNode
from services.campaigns.event_nodes.schemas import EventNodeIn, EventNodeOut, node_out
from services.campaigns.performance.kpis import days_elapsed, pacing
from shared.db import exact_sum, get_scoped, scoped
from shared.pagination import PageParams, paginate


async def create_node(session: AsyncSession, org_id: str, body: EventNodeIn) -> EventNode:
    node = EventNode(
        org_id=org_id,
        name=body.name,
        platform=body.platform,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        budget_amount=body.budget.amount,
        currency=body.budget.currency,
    )
    session.add(node)
    await session.flush()
    return node


async def describe_node(session: AsyncSession, node: EventNode, as_of: date) -> EventNodeOut:
    """The node with its spend (cost of linked campaigns, summed in SQL) and pacing as of ``as_of``."""
    linked = select(Campaign.id).where(Campaign.org_id == node.org_id, Campaign.event_node_id == node.id)
    spend = (
        await session.execute(
            select(exact_sum(MetricRow.cost)).where(MetricRow.org_id == node.org_id, MetricRow.campaign_id.in_(linked))
        )
    ).scalar_one()
    count = (await session.execute(select(func.count()).select_from(linked.subquery()))).scalar_one()
    spend = Decimal(spend or 0)
    elapsed, total = days_elapsed(node.starts_on, node.ends_on, as_of)
    return node_out(node, spend, int(count), pacing(spend, node.budget_amount, elapsed, total))


async def get_node(session: AsyncSession, org_id: str, node_id: str, as_of: date) -> EventNodeOut:
    return await describe_node(session, await get_scoped(session, EventNode, node_id, org_id), as_of)


async def list_nodes(
    session: AsyncSession, org_id: str, page: PageParams, as_of: date
) -> tuple[list[EventNodeOut], str | None]:
    rows, cursor = await paginate(session, scoped(EventNode, org_id), EventNode, page)
    return [await describe_node(session, n, as_of) for n in rows], cursor
