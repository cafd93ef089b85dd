"""Innovation, execution and status: innovations, PDCA/DR reviews, status snapshots, membership tiers and
service channels. Innovations and reviews span the layers: executives and supervisors write innovations;
executives, supervisors and specialists write reviews; the rest is tactical work (supervisors)."""

from __future__ import annotations

from services.plans.customer_status.service import computed_snapshots
from services.plans.execution.models import Innovation, MembershipTier, Review, ServiceChannel, StatusSnapshot
from services.plans.execution.schemas import (
    InnovationIn,
    InnovationOut,
    InnovationPatch,
    ReviewIn,
    ReviewOut,
    ReviewPatch,
    ServiceChannelIn,
    ServiceChannelOut,
    ServiceChannelPatch,
    SnapshotIn,
    SnapshotOut,
    SnapshotPatch,
    TierIn,
    TierOut,
    TierPatch,
)
from services.plans.execution.tier_events import tier_written
from services.plans.planning.children import ChildKind

TAG = "innovation, execution and status"
INNOVATIONS = ChildKind(
    "innovations",
    "innovation",
    Innovation,
    InnovationIn,
    InnovationPatch,
    InnovationOut,
    "execution",
    ("executive", "supervisor"),
    tag=TAG,
)
REVIEWS = ChildKind(
    "reviews",
    "review",
    Review,
    ReviewIn,
    ReviewPatch,
    ReviewOut,
    "execution",
    ("executive", "supervisor", "specialist"),
    tag=TAG,
)
SNAPSHOTS = ChildKind(
    "status-snapshots",
    "status_snapshot",
    StatusSnapshot,
    SnapshotIn,
    SnapshotPatch,
    SnapshotOut,
    "execution",
    ("supervisor",),
    tag=TAG,
    leading=computed_snapshots,
)
TIERS = ChildKind(
    "membership-tiers",
    "membership_tier",
    MembershipTier,
    TierIn,
    TierPatch,
    TierOut,
    "execution",
    ("supervisor",),
    tag=TAG,
    written=tier_written,
)
SERVICE_CHANNELS = ChildKind(
    "service-channels",
    "service_channel",
    ServiceChannel,
    ServiceChannelIn,
    ServiceChannelPatch,
    ServiceChannelOut,
    "execution",
    ("supervisor",),
    tag=TAG,
)
