"""The typed client other services use to call plans (and its response models)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from shared.errors import NotFound
from shared.http import ServiceClient


class SbuRef(BaseModel):
    """What a caller needs to know about an SBU to bind work to it."""

    id: str
    org_id: str
    plan_id: str
    status: Literal["draft", "active", "retired"]


class PlansClient(ServiceClient):
    service_name = "plans"

    async def jwks(self) -> dict[str, Any]:
        response = await self.request("GET", "/v1/auth/jwks")
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    async def get_sbu(self, sbu_id: str, *, token: str) -> SbuRef:
        """The SBU as the caller's organisation sees it; :class:`NotFound` when it does not exist there."""
        response = await self.request("GET", f"/v1/sbus/{sbu_id}", token=token)
        if response.status_code == 404:
            raise NotFound(f"sbu {sbu_id} not found")
        response.raise_for_status()
        return SbuRef.model_validate(response.json())
