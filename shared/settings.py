"""Settings base shared by every service.

Service settings subclass :class:`ServiceSettings` with their own ``env_prefix`` (``XBM_PLANS_`` …); the fields
here that are global to a deployment (data dir, where the other services live) keep their plain ``XBM_`` names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from limits import parse
from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shared.secrets import load_or_create_secret


def _global(name: str) -> AliasChoices:
    return AliasChoices(name)


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    #: short service name, used for the default database file and in logs
    service_name: str = "service"
    environment: Literal["development", "production", "test"] = Field(
        "development", validation_alias=_global("XBM_ENVIRONMENT")
    )
    data_dir: Path = Field(Path("var"), validation_alias=_global("XBM_DATA_DIR"))
    database_url: str | None = None
    plans_url: str = Field("http://127.0.0.1:8001", validation_alias=_global("XBM_PLANS_URL"))
    campaigns_url: str = Field("http://127.0.0.1:8002", validation_alias=_global("XBM_CAMPAIGNS_URL"))
    compliance_url: str = Field("http://127.0.0.1:8003", validation_alias=_global("XBM_COMPLIANCE_URL"))
    log_level: str = Field("INFO", validation_alias=_global("XBM_LOG_LEVEL"))
    #: timeouts (seconds) of calls to the other services
    http_connect_timeout: float = 2.0
    http_read_timeout: float = 5.0
    #: bodies larger than this are refused with 413 before they are parsed
    max_body_bytes: int = 1_048_576
    #: shared by the services of one deployment: authorises internal subscriptions and derives their secrets
    service_secret: SecretStr | None = Field(None, validation_alias=_global("XBM_SERVICE_SECRET"))
    #: run the outbox relay inside the app (the embedded default); off when relays run as their own processes
    run_relay: bool = True
    relay_idle_seconds: float = Field(1.0, gt=0, le=60)
    #: how long a claimed delivery is held before another relay may take it (a crashed relay's rows return)
    relay_lease_seconds: float = Field(60.0, ge=1, le=3600)
    #: days delivered events, their attempts, consumed-event records are kept (pending deliveries always are)
    events_retention_days: float = Field(30.0, ge=4, le=3650)
    #: PostgreSQL connections each process keeps, and may add under load: (pool + overflow) × processes must stay
    #: under the server's max_connections (100 by default; see deploy/ for the shipped arithmetic). Most are kept:
    #: an overflow connection is closed as soon as it is handed back, so a load that needs it opens and closes
    #: one per request (a connect, and its TLS attempt, costs more than the request's own statement)
    db_pool_size: int = Field(25, ge=1, le=200, validation_alias=_global("XBM_DB_POOL_SIZE"))
    db_max_overflow: int = Field(5, ge=0, le=200, validation_alias=_global("XBM_DB_MAX_OVERFLOW"))
    #: requests one organisation may make (``6000/minute``; a request costs 1 plus 1 per 64 KiB of body); unset:
    #: no limit
    org_requests: str | None = Field(None, validation_alias=_global("XBM_ORG_REQUESTS"))
    #: where request limits (and plans' failed logins) are counted: Redis (``redis://host:6379/0``) shared by every
    #: replica; in memory (per process) when not set
    rate_limit_url: str | None = Field(None, validation_alias=_global("XBM_RATE_LIMIT_URL"))
    #: webhook subscriptions one organisation may hold (each event is one delivery per subscription)
    max_subscriptions_per_org: int = Field(25, ge=1, le=1000)
    #: networks webhooks may be sent to although they are private (CIDRs); loopback is allowed in development
    outbound_allow: list[str] = Field(default_factory=list, validation_alias=_global("XBM_OUTBOUND_ALLOW"))
    #: ports webhooks may name besides 80 and 443 in production (development and test allow any)
    outbound_allow_ports: list[Annotated[int, Field(ge=1, le=65535)]] = Field(
        default_factory=list, validation_alias=_global("XBM_OUTBOUND_ALLOW_PORTS")
    )
    #: origins (``https://app.example.com``) whose pages may call this service from a browser; comma-separated
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias=_global("XBM_CORS_ORIGINS"), max_length=100
    )

    @field_validator("org_requests")
    @classmethod
    def _check_org_requests(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse(value)
            except ValueError as exc:
                raise ValueError(f"XBM_ORG_REQUESTS: {exc} (write e.g. 6000/minute)") from exc
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            scheme, sep, rest = origin.partition("://")
            if scheme not in ("http", "https") or not sep or not rest or "/" in rest.rstrip("/") or "*" in origin:
                raise ValueError(f"XBM_CORS_ORIGINS: {origin!r} is not an origin like https://app.example.com")
        return value

    def resolved_service_secret(self) -> str:
        if self.service_secret is not None:
            return self.service_secret.get_secret_value()
        if self.environment == "production":
            raise RuntimeError("production needs XBM_SERVICE_SECRET set")
        value, _ = load_or_create_secret(self.data_dir / "service_secret")
        return value

    def resolved_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file of this service under the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / f'{self.service_name}.db').resolve()}"
