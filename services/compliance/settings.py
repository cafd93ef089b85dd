from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class ComplianceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="XBM_COMPLIANCE_", extra="ignore")

    service_name: str = "compliance"
