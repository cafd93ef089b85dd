"""Dependencies of the compliance routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.compliance.customs.context import CustomsContext
from services.compliance.pii import Pii
from services.compliance.settings import ComplianceSettings
from shared.auth import Principal, require


def _pii(request: Request) -> Pii:
    return request.app.state.pii  # type: ignore[no-any-return]


def _settings(request: Request) -> ComplianceSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _customs(request: Request) -> CustomsContext:
    return request.app.state.customs  # type: ignore[no-any-return]


PiiDep = Annotated[Pii, Depends(_pii)]
CustomsDep = Annotated[CustomsContext, Depends(_customs)]
SettingsDep = Annotated[ComplianceSettings, Depends(_settings)]
#: who sends documents and fetches declaration XML: integration and admin
Ingest = Annotated[Principal, Depends(require("integration"))]
