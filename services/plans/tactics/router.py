"""The tactical layer (customers and needs, channels, products and pricing), written by supervisors and admins."""

from __future__ import annotations

from services.plans.planning.child_router import child_router
from services.plans.tactics.service import CHANNELS, CUSTOMERS, PRODUCTS

routers = [child_router(k) for k in (CUSTOMERS, CHANNELS, PRODUCTS)]
