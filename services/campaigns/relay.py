"""``python -m services.campaigns.relay``: campaigns' outbox relay (and SBU performance announcer) as a process."""

from services.campaigns.events import EVENTS, announce_changed_sbus
from services.campaigns.idempotency import IdempotencyKey
from services.campaigns.settings import CampaignsSettings
from shared.events.relay import relay_main

if __name__ == "__main__":
    relay_main(
        CampaignsSettings(),
        EVENTS,
        lambda sessionmaker, _http: [lambda: announce_changed_sbus(sessionmaker)],
        idempotency_model=IdempotencyKey,
    )
