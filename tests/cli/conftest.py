from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli import config
from services.cli.api import use_transport
from tests.cli.fake import FakeXbm


@pytest.fixture
def fake() -> Iterator[FakeXbm]:
    server = FakeXbm()
    with use_transport(server.transport()):
        yield server


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "xbm-config"
    monkeypatch.setenv("XBM_CONFIG_DIR", str(directory))
    for name in ("XBM_API_KEY", "XBM_PLANS_URL", "XBM_CAMPAIGNS_URL", "XBM_COMPLIANCE_URL"):
        monkeypatch.delenv(name, raising=False)
    return directory


@pytest.fixture
def logged_in(config_dir: Path) -> Path:
    config.save(config_dir, config.Credentials("tok-saved", time.time() + 600, "http://127.0.0.1:8001"))
    return config_dir


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
