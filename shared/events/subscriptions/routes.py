"""The routes of ``/v1/subscriptions`` (tenants' subscriptions, deliveries, replays) and ``/internal/subscriptions``
(one XBM service subscribing another, with the service secret)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response, status
from sqlalchemy import func, select

from shared.auth import Admin
from shared.context import context_of
from shared.db import DbSession, get_scoped, scoped, utcnow
from shared.errors import Conflict, NotFound, Unauthorized
from shared.etag import Version
from shared.events.outbox import invalidate_subscriptions, new_webhook_secret
from shared.events.subscriptions import service
from shared.events.subscriptions.schemas import (
    AttemptOut,
    DeliveryOut,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPatch,
    SystemName,
    SystemSubscriptionIn,
)
from shared.events.subscriptions.service import known_types
from shared.events.subscriptions.system import upsert_system_subscription
from shared.events.tables import EventTables
from shared.pagination import Pagination, paginate
from shared.schemas import Page, PathId


async def _tables(request: Request) -> EventTables:
    tables = context_of(request.app).events
    if tables is None:  # the router is mounted only on apps that publish events
        raise RuntimeError("this app publishes no events")
    return tables


Tables = Annotated[EventTables, Depends(_tables)]


def subscriptions_router(event_types: tuple[str, ...] = ()) -> APIRouter:
    """``event_types``: the events the service publishes, the first of which the example subscribes to."""
    router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"])
    example = {
        "url": "https://hooks.example.com/xbm",
        "event_types": list(event_types[:1]),
        "description": "ERP: reacts to XBM's changes",
    }
    # merged into the operation (FastAPI deep-updates it): the body's example names this service's events
    body_example = {"requestBody": {"content": {"application/json": {"examples": {"subscribe": {"value": example}}}}}}

    @router.post(
        "", status_code=status.HTTP_201_CREATED, response_model=SubscriptionCreated, openapi_extra=body_example
    )
    async def create_subscription(
        body: SubscriptionIn, principal: Admin, session: DbSession, tables: Tables, request: Request, response: Response
    ) -> SubscriptionCreated:
        """Subscribe a URL to events; the ``whsec_`` signing secret is shown once."""
        ctx = context_of(request.app)
        await ctx.outbound_policy.check_url(body.url)
        cap = ctx.settings.max_subscriptions_per_org
        held = select(func.count()).where(tables.Subscription.org_id == principal.org_id)
        if (await session.execute(held)).scalar_one() >= cap:
            raise Conflict(f"an organisation has at most {cap} subscriptions; delete one it no longer needs first")
        sub = tables.Subscription(
            org_id=principal.org_id,
            url=body.url,
            event_types=known_types(tables, body.event_types),
            description=body.description,
            secret=new_webhook_secret(),
            status="active",
        )
        session.add(sub)
        await session.flush()
        invalidate_subscriptions(session, tables)
        response.headers["Location"] = f"/v1/subscriptions/{sub.id}"
        return SubscriptionCreated(**SubscriptionOut.model_validate(sub).model_dump(), secret=sub.secret)

    @router.get("", response_model=Page[SubscriptionOut])
    async def list_subscriptions(
        principal: Admin, session: DbSession, tables: Tables, page: Pagination
    ) -> Page[SubscriptionOut]:
        rows, cursor = await paginate(session, scoped(tables.Subscription, principal.org_id), tables.Subscription, page)
        return Page(items=[SubscriptionOut.model_validate(r) for r in rows], next_cursor=cursor)

    @router.get("/{subscription_id}", response_model=SubscriptionOut)
    async def get_subscription(
        subscription_id: PathId, principal: Admin, session: DbSession, tables: Tables, version: Version
    ) -> SubscriptionOut:
        sub = await get_scoped(session, tables.Subscription, subscription_id, principal.org_id)
        return version.answer(SubscriptionOut.model_validate(sub))

    @router.patch("/{subscription_id}", response_model=SubscriptionOut, responses={412: {"description": "stale"}})
    async def patch_subscription(
        subscription_id: PathId,
        body: SubscriptionPatch,
        principal: Admin,
        session: DbSession,
        tables: Tables,
        request: Request,
        version: Version,
    ) -> SubscriptionOut:
        """Change the URL or event types, or re-enable a subscription disabled by a 410."""
        policy = context_of(request.app).outbound_policy
        return version.answer(
            await service.patch_subscription(
                session, tables, policy, principal.org_id, subscription_id, body, version.check
            )
        )

    @router.delete(
        "/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT, responses={412: {"description": "stale"}}
    )
    async def delete_subscription(
        subscription_id: PathId, principal: Admin, session: DbSession, tables: Tables, version: Version
    ) -> Response:
        await service.delete_subscription(session, tables, principal.org_id, subscription_id, version.check)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.get("/{subscription_id}/deliveries", response_model=Page[DeliveryOut])
    async def list_deliveries(
        subscription_id: PathId, principal: Admin, session: DbSession, tables: Tables, page: Pagination
    ) -> Page[DeliveryOut]:
        """Every delivery to this subscription with each attempt's status code, error and time."""
        D, E, A = tables.Delivery, tables.OutboxEvent, tables.Attempt
        await get_scoped(session, tables.Subscription, subscription_id, principal.org_id)
        rows, cursor = await paginate(session, select(D).where(D.subscription_id == subscription_id), D, page)
        ids = [r.id for r in rows]
        types: dict[str, str] = dict(
            (await session.execute(select(E.id, E.type).where(E.id.in_([r.event_id for r in rows])))).all()
        )
        attempts: dict[str, list[AttemptOut]] = {i: [] for i in ids}
        for attempt in (
            await session.execute(select(A).where(A.delivery_id.in_(ids)).order_by(A.attempted_at))
        ).scalars():
            attempts[attempt.delivery_id].append(AttemptOut.model_validate(attempt))
        items = [
            DeliveryOut(
                id=r.id,
                event_id=r.event_id,
                event_type=types.get(r.event_id, ""),
                status=r.status,
                attempts=r.attempts,
                next_attempt_at=r.next_attempt_at if r.status == "pending" else None,
                last_status_code=r.last_status_code,
                last_error=r.last_error,
                delivered_at=r.delivered_at,
                created_at=r.created_at,
                attempt_log=attempts[r.id],
            )
            for r in rows
        ]
        return Page(items=items, next_cursor=cursor)

    @router.post(
        "/{subscription_id}/deliveries/{delivery_id}/replay",
        status_code=status.HTTP_202_ACCEPTED,
        responses={409: {"description": "the delivery is still pending"}},
    )
    async def replay_delivery(
        subscription_id: PathId, delivery_id: PathId, principal: Admin, session: DbSession, tables: Tables
    ) -> dict[str, str]:
        """Send a dead (or delivered) event again, with a fresh schedule of attempts."""
        await get_scoped(session, tables.Subscription, subscription_id, principal.org_id)
        D = tables.Delivery
        delivery = (
            await session.execute(select(D).where(D.id == delivery_id, D.subscription_id == subscription_id))
        ).scalar_one_or_none()
        if delivery is None:
            raise NotFound(f"delivery {delivery_id[:64]} not found")
        if delivery.status == "pending":
            raise Conflict("this delivery is still pending; it will be attempted again on its schedule")
        delivery.status, delivery.attempts, delivery.next_attempt_at = "pending", 0, utcnow()
        await session.flush()
        return {"id": delivery.id, "status": "pending"}

    return router


def internal_router() -> APIRouter:
    """Routes other XBM services call; outside /v1, so the public gateway never routes to them."""
    internal = APIRouter(prefix="/internal", tags=["internal"])

    @internal.put("/subscriptions/{name}", include_in_schema=False)
    async def put_system_subscription(
        name: SystemName,
        body: SystemSubscriptionIn,
        request: Request,
        session: DbSession,
        tables: Tables,
        authorization: Annotated[str | None, Header(max_length=512)] = None,
    ) -> dict[str, str]:
        """Idempotent registration of one service's subscription to another's events (not for tenants)."""
        expected = f"Bearer {context_of(request.app).service_secret}"
        if not authorization or not hmac.compare_digest(authorization.encode(), expected.encode()):
            raise Unauthorized("internal subscriptions need the service secret")
        await upsert_system_subscription(
            session, tables, name, body.url, known_types(tables, body.event_types), body.secret
        )
        return {"name": name, "status": "active"}

    return internal
