from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class ComplianceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="XBM_COMPLIANCE_", extra="ignore")

    service_name: str = "compliance"
    #: key for buyer/payer ID numbers and source secrets at rest (AES-GCM); generated into the data dir when unset
    pii_key: SecretStr | None = None
    #: a document still waiting for its counterparts after this many hours is listed in the exceptions
    missing_document_hours: float = Field(24.0, gt=0, le=24 * 90)

    @model_validator(mode="after")
    def _production_needs_a_key(self) -> ComplianceSettings:
        if self.environment == "production" and self.pii_key is None:
            # every replica must decrypt what another one stored
            raise ValueError("production needs XBM_COMPLIANCE_PII_KEY set")
        return self
