"""``python -m services.compliance.relay``: compliance's outbox relay as a process of its own."""

from services.compliance.events import EVENTS, IdempotencyKey
from services.compliance.settings import ComplianceSettings
from shared.events.relay import relay_main

if __name__ == "__main__":
    relay_main(ComplianceSettings(), EVENTS, idempotency_model=IdempotencyKey)
