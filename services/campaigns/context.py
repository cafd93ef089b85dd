"""Campaigns' application context: the common one plus the client for plans and the start-up subscription
attempts."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, FastAPI, Request

from services.campaigns.events import announce_changed_sbus
from services.campaigns.settings import CampaignsSettings
from services.campaigns.subscribe import subscribe_on_start
from services.plans.client import PlansClient
from shared.app_context import AppContext
from shared.context import context_of
from shared.events.relay import Task


@dataclass(kw_only=True, eq=False)
class CampaignsContext(AppContext):
    settings: CampaignsSettings
    #: built on first use (it needs the HTTP client of the running app); one per app, so its circuit breaker
    #: remembers failures across requests
    plans_client: PlansClient | None = None
    #: the background registrations of campaigns' subscriptions at plans and compliance
    subscription_tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def relay_jobs(self) -> Sequence[Task]:
        return [lambda: announce_changed_sbus(self.sessionmaker)]

    async def on_started(self) -> None:
        if self.settings.subscribe_on_start:
            await subscribe_on_start(self)

    async def on_closing(self) -> None:
        for task in self.subscription_tasks:
            task.cancel()

    def plans(self) -> PlansClient:
        if self.plans_client is None:
            self.plans_client = PlansClient(self.http, self.settings.plans_url)
        return self.plans_client


def campaigns_context(app: FastAPI) -> CampaignsContext:
    return context_of(app, CampaignsContext)


async def _context(request: Request) -> CampaignsContext:
    return campaigns_context(request.app)


#: the dependency campaigns' routes reach their context through
CampaignsCtx = Annotated[CampaignsContext, Depends(_context)]
