"""A new user's first hour, as the README tells it: `make run`, `make demo`, then the CLI with the demo's key.

Nothing is configured beyond the ports (so the test does not collide with other stacks on the machine): no
XBM_DATA_DIR, no URLs, no tokens — the demo and the CLI find everything from the same defaults `make run` uses.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.frontend.browser import CHROMIUM
from tests.plans.printing import assert_a4, printed
from tests.system.procs import ROOT, Stack, child_env

pytestmark = [pytest.mark.system]


def _ports_env(stack: Stack) -> dict[str, str]:
    env = child_env()
    env.update({f"XBM_{name.upper()}_PORT": str(port) for name, port in stack.ports.items()})
    return env


def test_a_second_make_run_on_the_same_ports_refuses_and_never_says_up(tmp_path: Path) -> None:
    first = Stack(tmp_path / "one" / "var", cwd=tmp_path / "one")
    try:
        first.wait_up()
        second_dir = tmp_path / "two"
        second_dir.mkdir()
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "xbm.run"],
            cwd=second_dir,
            env=_ports_env(first),
            capture_output=True,
            text=True,
            timeout=60,
        )
        out = done.stdout + done.stderr
        assert done.returncode != 0, out
        assert "port already in use" in out
        assert all(f"port {port}" in out for port in first.ports.values()), out
        assert "up" not in done.stdout.lower().split() and "XBM is up" not in out
        # refused before anything was generated: no bootstrap token printed or kept
        assert "bootstrap token" not in out and not (second_dir / "var" / "bootstrap_token").exists()
        assert time.monotonic() - started < 30
        # and the first stack still serves
        assert first.proc.poll() is None
    finally:
        assert first.stop(signal.SIGTERM) == 0, first.output()


def _the_demo_report_reads_on_paper(html: str, tmp_path: Path) -> None:
    """Company A's season as a CMO reads it printed: the chart's figures, campaigns, the experiment, customs."""
    if not shutil.which(CHROMIUM):
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    sizes, text = printed(html, tmp_path)
    assert_a4(sizes)
    assert "plan status active" in text
    assert "Amounts in USD" in text and "budget 60,000.00 USD" in text and "spend " in text
    assert "1 CNY = 0.1387 USD" in text  # the CNY campaign's spend on the USD scale, its rate named
    for section in ("Campaigns (the combat layer)", "Experiments", "Innovation tasks", "Customs (three-in-one"):
        assert section in text, section
    assert "WhatsApp service desk for site buyers, run from Hangzhou" in text and "on pace" in text
    assert "winner video_page" in text and "+75.0 %" in text  # 7 against 4 conversions per 10,000 impressions a day
    assert "released 3" in text and "Released through customs: 1,332.00 USD" in text  # the listed USD exports


def _xbm(env: dict[str, str], *args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xbm.cli.main", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_make_run_then_make_demo_twice_and_the_printed_key_logs_in(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    stack = Stack(clone / "var", cwd=clone)
    try:
        stack.wait_up()
        env = _ports_env(stack)
        runs = []
        for _ in range(2):
            done = subprocess.run(
                [sys.executable, "-m", "xbm.cli.demo"],
                cwd=clone,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, done.stdout + done.stderr
            runs.append(done.stdout)
        keys = [re.search(r"admin API key \(kept in (.+?)\):\s+(xbm_\S+)", out) for out in runs]
        assert all(keys), runs
        assert keys[0][2] != keys[1][2]  # each run plays in an organisation of its own  # type: ignore[index]
        kept = Path(keys[1][1])  # type: ignore[index]
        assert kept.read_text().strip() == keys[1][2] and oct(kept.stat().st_mode & 0o777) == "0o600"  # type: ignore[index]
        out = runs[1]
        assert "SBUs: 4" in out and "experiment: winner (video_page)" in out
        for where in ("plan report:", "the SBU grid", "the experiment", "customs orders", "xbm whoami"):
            assert where in out, out
        report = clone / "var" / "demo" / "plan-report.html"
        assert report.exists()
        _the_demo_report_reads_on_paper(report.read_text(), tmp_path)

        # the key as a script pipes it (no terminal: `login` alone would exit 2 rather than wait for a prompt);
        # the CLI keeps its login in its own config dir
        cli_env = {**env, "XBM_CONFIG_DIR": str(tmp_path / "cli")}
        no_terminal = _xbm(cli_env, "login", cwd=clone, stdin="")
        assert no_terminal.returncode == 2 and "XBM_API_KEY" in no_terminal.stderr
        login = _xbm(cli_env, "login", "--api-key", "-", cwd=clone, stdin=keys[1][2] + "\n")  # type: ignore[index]
        assert login.returncode == 0, login.stderr
        org = re.search(r"organisation (\S+), plan (\S+)", out)
        assert org, out
        whoami = _xbm(cli_env, "--json", "whoami", cwd=clone)
        assert whoami.returncode == 0, whoami.stderr
        assert '"role": "admin"' in whoami.stdout and org[1] in whoami.stdout and "Company A" in whoami.stdout
        report_out = _xbm(cli_env, "plan", "report", org[2], "-o", "-", cwd=clone)
        assert report_out.returncode == 0 and report_out.stdout.startswith("<!doctype html>")
        assert not (clone / "-").exists()
        wrong = _xbm(cli_env, "login", "--api-key", "xbm_not_a_key", cwd=clone)
        assert wrong.returncode == 4, wrong.stderr
    finally:
        stack.stop(signal.SIGTERM)


def test_plan_import_is_idempotent_and_a_refusal_leaves_nothing(tmp_path: Path) -> None:
    """Against the real plans service: the same file twice is one plan; a file plans refuses half-way is none."""
    import yaml

    clone = tmp_path / "clone"
    stack = Stack(clone / "var", cwd=clone)
    try:
        stack.wait_up()
        token = (clone / "var" / "bootstrap_token").read_text().strip()
        created = httpx.post(
            f"{stack.urls['plans']}/v1/orgs", json={"name": "Import test"}, headers={"X-Bootstrap-Token": token}
        )
        key = created.json()["admin_api_key"]
        env = {**_ports_env(stack), "XBM_API_KEY": key, "XBM_CONFIG_DIR": str(tmp_path / "cli")}
        document = yaml.safe_load((ROOT / "examples" / "company-a" / "plan.yaml").read_text())
        document["plan"]["key"] = "company-a-first-hour"
        good = tmp_path / "plan.yaml"
        good.write_text(yaml.safe_dump(document, allow_unicode=True))

        dry = _xbm(env, "--json", "plan", "import", "--dry-run", str(good), cwd=clone)
        assert dry.returncode == 0, dry.stderr

        def plans() -> list[dict]:  # type: ignore[type-arg]
            access = httpx.post(f"{stack.urls['plans']}/v1/auth/token", json={"api_key": key}).json()["access_token"]
            listed = httpx.get(f"{stack.urls['plans']}/v1/plans", headers={"Authorization": f"Bearer {access}"})
            return listed.json()["items"]  # type: ignore[no-any-return]

        assert plans() == []  # the dry run sent nothing
        first = _xbm(env, "plan", "import", str(good), cwd=clone)
        assert first.returncode == 0, first.stderr
        again = _xbm(env, "plan", "import", str(good), cwd=clone)
        assert again.returncode == 0, again.stderr
        assert again.stdout.strip() == first.stdout.strip()
        assert [p["id"] for p in plans()] == [first.stdout.strip()]

        # the second SBU repeats the first (same customer, channel, product): plans refuses it half-way
        document["plan"]["key"] = "half-plan"
        document["sbus"].append(dict(document["sbus"][0]))
        bad = tmp_path / "bad.yaml"
        bad.write_text(yaml.safe_dump(document, allow_unicode=True))
        refused = _xbm(env, "plan", "import", str(bad), cwd=clone)
        assert refused.returncode == 1, refused.stderr
        assert "was removed; nothing is left behind" in refused.stderr
        assert [p["id"] for p in plans()] == [first.stdout.strip()]
    finally:
        stack.stop(signal.SIGTERM)
