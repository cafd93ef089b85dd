"""Changing and deleting a tenant's subscription (``PATCH``/``DELETE /v1/subscriptions/{id}``): checked against
the client's copy (If-Match, through the route's ``version.check``) before anything changes."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import get_scoped, utcnow
from shared.errors import Unprocessable
from shared.etag import Precondition
from shared.events.outbox import invalidate_subscriptions
from shared.events.subscriptions.schemas import SubscriptionOut, SubscriptionPatch
from shared.events.tables import EventTables
from shared.outbound import OutboundPolicy


def known_types(tables: EventTables, types: list[str]) -> list[str]:
    unknown = sorted(set(types) - set(tables.event_types))
    if unknown:
        raise Unprocessable(
            f"unknown event types {unknown}; this service publishes {list(tables.event_types)}",
            loc=["body", "event_types"],
        )
    return sorted(set(types))


async def patch_subscription(
    session: AsyncSession,
    tables: EventTables,
    policy: OutboundPolicy,
    org_id: str,
    subscription_id: str,
    body: SubscriptionPatch,
    precondition: Precondition,
) -> SubscriptionOut:
    """Change the URL (where XBM may deliver: ``policy``) or event types, or re-enable a subscription."""
    sub = await get_scoped(session, tables.Subscription, subscription_id, org_id)
    precondition(SubscriptionOut.model_validate(sub))
    if body.url is not None:
        await policy.check_url(body.url)
        sub.url = body.url
    if body.event_types is not None:
        sub.event_types = known_types(tables, body.event_types)
    if body.description is not None:
        sub.description = body.description
    if body.status is not None:
        sub.status = body.status
        sub.disabled_reason = None if body.status == "active" else "disabled by an admin"
    sub.updated_at = utcnow()
    await session.flush()
    invalidate_subscriptions(session, tables)
    return SubscriptionOut.model_validate(sub)


async def delete_subscription(
    session: AsyncSession, tables: EventTables, org_id: str, subscription_id: str, precondition: Precondition
) -> None:
    sub = await get_scoped(session, tables.Subscription, subscription_id, org_id)
    precondition(SubscriptionOut.model_validate(sub))
    await session.delete(sub)
    await session.flush()
    invalidate_subscriptions(session, tables)
