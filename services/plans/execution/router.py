"""Innovations (executive or supervisor), PDCA/DR reviews (executive, supervisor or specialist), status
snapshots, membership tiers and service channels (supervisor); admins write all of them."""

from __future__ import annotations

from services.plans.execution.service import INNOVATIONS, REVIEWS, SERVICE_CHANNELS, SNAPSHOTS, TIERS
from services.plans.planning.child_router import child_router

routers = [child_router(k) for k in (INNOVATIONS, REVIEWS, SNAPSHOTS, TIERS, SERVICE_CHANNELS)]
