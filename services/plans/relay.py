"""``python -m services.plans.relay``: plans' outbox relay as a process of its own."""

from services.plans.events import EVENTS, IdempotencyKey
from services.plans.settings import PlansSettings
from shared.events.relay import relay_main

if __name__ == "__main__":
    relay_main(PlansSettings(), EVENTS, idempotency_model=IdempotencyKey)
