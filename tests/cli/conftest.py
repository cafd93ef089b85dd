from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from services.campaigns.app import create_app as create_campaigns
from services.campaigns.settings import CampaignsSettings
from services.compliance.app import create_app as create_compliance
from services.compliance.settings import ComplianceSettings
from services.plans.app import create_app as create_plans
from services.plans.settings import PlansSettings
from tests.cli.fake import FakeXbm
from xbm.cli import config
from xbm.cli.api import use_transport

PORTS = ("XBM_PLANS_PORT", "XBM_CAMPAIGNS_PORT", "XBM_COMPLIANCE_PORT")


@pytest.fixture(scope="session")
def specs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The OpenAPI documents the three services really serve (built from their apps, no database needed)."""
    data = tmp_path_factory.mktemp("cli-specs")
    common = {"environment": "test", "data_dir": data, "run_relay": False, "service_secret": "s" * 32}
    return {
        "plans": create_plans(PlansSettings(**common, database_url=f"sqlite+aiosqlite:///{data}/p.db")).openapi(),
        "campaigns": create_campaigns(
            CampaignsSettings(**common, database_url=f"sqlite+aiosqlite:///{data}/c.db", subscribe_on_start=False)
        ).openapi(),
        "compliance": create_compliance(
            ComplianceSettings(**common, database_url=f"sqlite+aiosqlite:///{data}/x.db")
        ).openapi(),
    }


@pytest.fixture
def fake(specs: dict[str, Any]) -> Iterator[FakeXbm]:
    server = FakeXbm(specs=specs)
    with use_transport(server.transport()):
        yield server


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "xbm-config"
    monkeypatch.setenv("XBM_CONFIG_DIR", str(directory))
    for name in ("XBM_API_KEY", "XBM_PLANS_URL", "XBM_CAMPAIGNS_URL", "XBM_COMPLIANCE_URL", "XBM_HOST", *PORTS):
        monkeypatch.delenv(name, raising=False)
    return directory


@pytest.fixture
def logged_in(config_dir: Path) -> Path:
    config.save(config_dir, config.Credentials("tok-saved", time.time() + 600, "http://127.0.0.1:8001"))
    return config_dir


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
