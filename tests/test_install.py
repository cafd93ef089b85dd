"""`make test` tests the packages `make run` runs: adding the development tools (`make install-dev`, the `dev`
extra) changes the version of no runtime package.

pip resolves both installs from scratch, as a new clone's `make install` and `make install-dev` would, side by side
at the same moment (so a release between them cannot tell them apart), and every package of the runtime set must
come out at the same version in the development set.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _resolve(target: str, report: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet"]
    command += ["--disable-pip-version-check", "--report", str(report), "-e", target]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _versions(report: Path) -> dict[str, str]:
    installed = json.loads(report.read_text())["install"]
    return {item["metadata"]["name"].lower().replace("_", "-"): item["metadata"]["version"] for item in installed}


def test_the_development_install_keeps_every_runtime_version(tmp_path: Path) -> None:
    runtime, development = tmp_path / "runtime.json", tmp_path / "dev.json"
    runs = [_resolve(".", runtime), _resolve(".[dev]", development)]
    for run in runs:
        _, err = run.communicate(timeout=600)
        assert run.returncode == 0, err.decode(errors="replace")[-2000:]
    run_versions, dev_versions = _versions(runtime), _versions(development)
    assert "numpy" in run_versions and "gbstats" in dev_versions
    changed = {
        name: (version, dev_versions.get(name))
        for name, version in run_versions.items()
        if dev_versions.get(name) != version
    }
    assert changed == {}, f"make install-dev would change these runtime packages (runtime, dev): {changed}"
