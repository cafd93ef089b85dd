"""Compliance's application context: the common one plus the personal-data cipher and the customs context
(schemas, signer, folders), and the dependencies its routes reach them through. The relay's jobs and the
subscriptions are wired onto it by the app (``app.py``): the routes of every package import this module, so it
imports none of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, FastAPI, Request

from services.compliance.customs.context import CustomsContext
from services.compliance.pii import Pii
from services.compliance.settings import ComplianceSettings
from shared.app_context import AppContext
from shared.context import context_of


@dataclass(kw_only=True, eq=False)
class ComplianceContext(AppContext):
    settings: ComplianceSettings
    pii: Pii
    #: built when the app starts (an agent signer needs the HTTP client)
    customs: CustomsContext = field(init=False)

    async def on_started(self) -> None:
        self.customs = CustomsContext.build(self.settings, self.http)


def compliance_context(app: FastAPI) -> ComplianceContext:
    return context_of(app, ComplianceContext)


async def _context(request: Request) -> ComplianceContext:
    return compliance_context(request.app)


async def _pii(request: Request) -> Pii:
    return compliance_context(request.app).pii


async def _settings(request: Request) -> ComplianceSettings:
    return compliance_context(request.app).settings


async def _customs(request: Request) -> CustomsContext:
    return compliance_context(request.app).customs


#: the dependency compliance's routes reach their context through; the three below are its parts
ComplianceCtx = Annotated[ComplianceContext, Depends(_context)]
PiiDep = Annotated[Pii, Depends(_pii)]
CustomsDep = Annotated[CustomsContext, Depends(_customs)]
SettingsDep = Annotated[ComplianceSettings, Depends(_settings)]
