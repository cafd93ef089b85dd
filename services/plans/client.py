"""The typed client other services use to call plans (and its response models). It raises its own errors
(:class:`PlansRefused`, :class:`PlansUnavailable`, :class:`~shared.errors.NotFound`), never httpx's; its test
double is :mod:`services.plans.client_fake`."""

from __future__ import annotations

from typing import Literal

import httpx
from pydantic import BaseModel, ValidationError

from shared.errors import NotFound
from shared.http import ServiceClient


class SbuRef(BaseModel):
    """What a caller needs to know about an SBU to bind work to it."""

    id: str
    org_id: str
    plan_id: str
    status: Literal["draft", "active", "retired"]


class PlansError(Exception):
    """Plans could not give the answer asked for."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class PlansRefused(PlansError):
    """Plans answered the request with a 4xx other than 404: the caller may not see it, or asked wrongly."""


class PlansUnavailable(PlansError):
    """Plans answered 5xx, or with a body this client cannot read: worth retrying later."""


class PlansClient(ServiceClient):
    service_name = "plans"

    async def get_sbu(self, sbu_id: str, *, token: str) -> SbuRef:
        """The SBU as the caller's organisation sees it; :class:`NotFound` when it does not exist there."""
        response = await self.request("GET", f"/v1/sbus/{sbu_id}", token=token)
        if response.status_code == 404:
            raise NotFound(f"sbu {sbu_id} not found")
        _raise_for_status(response, f"SBU {sbu_id}")
        try:
            return SbuRef.model_validate(response.json())
        except (ValidationError, ValueError) as exc:
            raise PlansUnavailable(f"plans answered with an SBU {sbu_id} this service cannot read") from exc


def _raise_for_status(response: httpx.Response, what: str) -> None:
    status = response.status_code
    if status >= 500:
        raise PlansUnavailable(f"plans answered {status} for {what}", status)
    if status >= 400:
        raise PlansRefused(f"plans refused to show {what} (HTTP {status})", status)
