"""A Python client for XBM's three services, generated from their OpenAPI documents (clients/generate.py).

    from xbm_client import sign_in, PlansClient, CampaignsClient, ComplianceClient

    token = sign_in("http://127.0.0.1:8001", api_key)
    with PlansClient("http://127.0.0.1:8001", token) as plans:
        plan = plans.create_plan({...}, idempotency_key="plan-2027")
"""

from __future__ import annotations

import httpx

from xbm_client._base import BaseClient, XbmError
from xbm_client.campaigns import CampaignsClient
from xbm_client.compliance import ComplianceClient
from xbm_client.plans import PlansClient


def sign_in(plans_url: str, api_key: str, *, http: httpx.Client | None = None) -> str:
    """Exchange an API key for an access token (valid for ``expires_in`` seconds; sign in again on 401)."""
    with PlansClient(plans_url, http=http) as plans:
        return plans.issue_token({"api_key": api_key})["access_token"]


__all__ = ["BaseClient", "CampaignsClient", "ComplianceClient", "PlansClient", "XbmError", "sign_in"]
