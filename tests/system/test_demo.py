"""``make demo`` runs to the end against the three services started the way ``make run`` starts them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.system.procs import ROOT, Stack

pytestmark = [pytest.mark.system]


def test_the_demo_plays_a_season_of_company_a(tmp_path: Path) -> None:
    data = tmp_path / "data"
    stack = Stack(data)
    try:
        stack.wait_up()
        env = {k: v for k, v in os.environ.items() if not k.startswith("XBM_")}
        env.update({"XBM_DATA_DIR": str(data), **{f"XBM_{n.upper()}_URL": u for n, u in stack.urls.items()}})
        done = subprocess.run(
            [sys.executable, "-m", "xbm.cli.demo"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
        )
    finally:
        stack.stop(signal.SIGTERM)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "SBUs: 4" in out and "experiment: winner (video_page)" in out
    assert "export orders through customs to closed: 5; attributed to 'gsk-us-launch': 5 orders, 21317.00 USD" in out
    report = data / "demo" / "plan-report.html"
    assert report.exists() and "<svg" in report.read_text()
