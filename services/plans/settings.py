from __future__ import annotations

from limits import parse
from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.auth import MAX_TOKEN_LIFETIME
from shared.settings import ServiceSettings


class PlansSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="XBM_PLANS_", extra="ignore")

    service_name: str = "plans"
    #: guards ``POST /v1/orgs``; generated into the data dir when not set (embedded default)
    bootstrap_token: SecretStr | None = Field(None, validation_alias=AliasChoices("XBM_BOOTSTRAP_TOKEN"))
    #: Ed25519 private key (PEM) that signs access tokens; generated into the data dir when not set
    signing_key: SecretStr | None = None
    #: the signing key before the last rotation (PEM): still listed in the JWKS, so its tokens keep verifying
    previous_signing_key: SecretStr | None = None
    #: access-token lifetime; never more than an hour, so a leaked token is short-lived even if not revoked
    token_ttl_seconds: int = Field(900, ge=60, le=MAX_TOKEN_LIFETIME)
    #: failed attempts allowed per client address, and per API-key prefix (``limits`` notation)
    auth_failures_per_address: str = "20/minute"
    auth_failures_per_key: str = "10/minute"

    @model_validator(mode="after")
    def _production_needs_real_secrets(self) -> PlansSettings:
        if self.environment == "production":
            missing = [
                n
                for n, v in (("XBM_BOOTSTRAP_TOKEN", self.bootstrap_token), ("XBM_PLANS_SIGNING_KEY", self.signing_key))
                if v is None
            ]
            if missing:
                # every replica must sign with the same key and no secret may be a generated local file
                raise ValueError(f"production needs {', '.join(missing)} set")
            if self.bootstrap_token is not None and len(self.bootstrap_token.get_secret_value()) < 32:
                raise ValueError("production needs XBM_BOOTSTRAP_TOKEN of at least 32 characters")
        for name in ("auth_failures_per_address", "auth_failures_per_key"):
            try:
                parse(getattr(self, name))
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from exc
        return self
