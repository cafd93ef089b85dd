"""`make run` and `make demo` say where the `xbm` command is (it is not on PATH until the virtualenv is activated),
and the path they name runs it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_make_run_and_make_demo_name_the_xbm_command() -> None:
    # PY=true and no prerequisite: the targets' own lines, without starting the services or the demo
    result = subprocess.run(
        ["make", "-s", "--no-print-directory", "run", "demo", "PY=true", "RUNTIME="],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    run, demo = [line for line in result.stdout.splitlines() if line.startswith("==")]
    assert ".venv/bin/xbm login" in run and "source .venv/bin/activate" in run
    assert ".venv/bin/xbm" in demo and "source .venv/bin/activate" in demo


def test_the_running_stack_names_an_xbm_that_runs() -> None:
    hint = subprocess.run(
        [sys.executable, "-c", "from xbm.run import cli_hint; print(cli_hint())"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    match = re.search(r"The xbm command line: (\S+) \(e\.g\. `(\S+) login`", hint)
    assert match, hint
    named = Path(match.group(1)) if match.group(1).startswith("/") else ROOT / match.group(1)
    version = subprocess.run([str(named), "--version"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("xbm "), version
