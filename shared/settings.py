"""Settings base shared by every service.

Service settings subclass :class:`ServiceSettings` with their own ``env_prefix`` (``XBM_PLANS_`` …); the fields
here that are global to a deployment (data dir, where the other services live) keep their plain ``XBM_`` names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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

    def resolved_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file of this service under the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / f'{self.service_name}.db').resolve()}"
