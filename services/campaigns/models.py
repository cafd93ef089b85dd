"""Every table of campaigns, imported in one place for Alembic."""

from services.campaigns.campaigns.models import AttributedOrder, Campaign, ExternalRef, MetricRow
from services.campaigns.event_nodes.models import EventNode
from services.campaigns.experiments.models import Experiment
from services.campaigns.idempotency import IdempotencyKey
from services.campaigns.kinds.models import CampaignKind
from services.campaigns.reviews.models import CampaignReview

__all__ = [
    "AttributedOrder",
    "Campaign",
    "CampaignKind",
    "CampaignReview",
    "EventNode",
    "Experiment",
    "ExternalRef",
    "IdempotencyKey",
    "MetricRow",
]
