"""Campaigns' table of Idempotency-Key records (the mechanism lives in shared.idempotency)."""

from services.campaigns.base import Base
from shared.idempotency import idempotency_table

IdempotencyKey = idempotency_table(Base)
