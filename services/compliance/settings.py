from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class ComplianceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="XBM_COMPLIANCE_", extra="ignore")

    service_name: str = "compliance"
    #: key for buyer/payer ID numbers and source secrets at rest (AES-GCM); generated into the data dir when unset
    pii_key: SecretStr | None = None
    #: a platform's raw delivery (Shopify, WooCommerce) keeps its body this many days, then it is emptied (a refund
    #: or delete still waiting for its order keeps it); the row stays for de-duplication
    platform_body_retention_days: float = Field(90.0, gt=0, le=3650)
    #: a document still waiting for its counterparts after this many hours is listed in the exceptions
    missing_document_hours: float = Field(24.0, gt=0, le=24 * 90)
    #: a folder with another edition of the official XSDs (import-, export-, terminal-202205.xsd …) every message is
    #: validated against; unset, the 202205 edition shipped with XBM
    xsd_dir: Path | None = None
    #: PEM key (RSA or SM2) and certificate that sign customs messages (spec §6)
    signing_key: Path | None = None
    signing_cert: Path | None = None
    #: an external signing agent in front of the e-port card (http(s)://…, e.g. ``python -m
    #: services.compliance.signer``), or the card's own local signing service (ws://127.0.0.1:61232), instead of
    #: the key files
    signer_url: str | None = Field(None, max_length=2048)
    #: what the agent's key is: sm2 (sm2-sm3, the e-port card) or rsa (rsa-sha1); the card's follows its certificate
    signer_algorithm: str = Field("sm2", pattern=r"^(sm2|rsa)$")
    #: the bearer token the signing agent asks for
    signer_token: SecretStr | None = None
    #: the card's PIN, when compliance talks to the card's local service itself (a ws:// signer_url)
    signer_card_password: SecretStr | None = None
    #: the KeyName of every signature, when not the certificate's number (its serial number, as the card reports it)
    signing_key_name: str | None = Field(None, min_length=1, max_length=64)
    #: the e-port transfer client's send folder: every message to customs is written there in its DxpMsg envelope
    customs_outbox: Path | None = None
    #: the transfer client's receive folder: receipts left there are taken as if posted to /messages
    customs_inbox: Path | None = None
    #: the DxpMsg receiver of messages to customs (the e-port's cross-border e-commerce node)
    customs_receiver_id: str = Field("DXPEDCCEB0000002", min_length=1, max_length=16)

    @model_validator(mode="after")
    def _production_needs_a_key(self) -> ComplianceSettings:
        if self.environment == "production" and self.pii_key is None:
            # every replica must decrypt what another one stored
            raise ValueError("production needs XBM_COMPLIANCE_PII_KEY set")
        if (self.signing_key is None) != (self.signing_cert is None):
            raise ValueError("XBM_COMPLIANCE_SIGNING_KEY and XBM_COMPLIANCE_SIGNING_CERT go together")
        return self
