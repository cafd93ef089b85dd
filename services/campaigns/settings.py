from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class CampaignsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="XBM_CAMPAIGNS_", extra="ignore")

    service_name: str = "campaigns"
    #: subscribe to plans' and compliance's events on start-up (off in tests that drive events themselves)
    subscribe_on_start: bool = True
