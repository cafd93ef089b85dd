"""`xbm` run as a program, the way a script or CI runs it: without a terminal, and past its token's expiry (the
server here gives tokens of one second and refuses them after, as plans does after 15 minutes)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.server import TokenServer, serving
from xbm.cli import config

ROOT = Path(__file__).resolve().parents[2]
REPLAY = ["events", "replay", "--service", "plans", "-s", "sub-1", "-d", "del-1"]


@pytest.fixture
def server() -> Iterator[TokenServer]:
    with serving(TokenServer(keys={"xbm_kept_key"}, ttl=1)) as running:
        yield running


def xbm(
    config_dir: Path, server: TokenServer, *args: str, stdin: int | None = subprocess.DEVNULL, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """`xbm ARGS` as a separate process with no terminal: stdin is /dev/null unless said otherwise."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XBM_")}
    env |= {"XBM_CONFIG_DIR": str(config_dir), "PYTHONPATH": str(ROOT)}
    for service in ("PLANS", "CAMPAIGNS", "COMPLIANCE"):
        env[f"XBM_{service}_URL"] = server.url
    return subprocess.run(
        [sys.executable, "-m", "xbm.cli.main", *args],
        env=env,
        cwd=ROOT,
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        **kwargs,
    )


def _close_stdin() -> None:
    os.close(0)


@pytest.mark.parametrize("stdin", ["devnull", "closed"])
def test_login_without_a_terminal_exits_2_and_names_the_ways_to_give_the_key(
    tmp_path: Path, server: TokenServer, stdin: str
) -> None:
    extra: dict[str, Any] = {"preexec_fn": _close_stdin} if stdin == "closed" else {}
    result = xbm(tmp_path, server, "login", **extra)
    assert result.returncode == 2, result.stderr
    assert "--api-key" in result.stderr and "XBM_API_KEY" in result.stderr
    assert "Traceback" not in result.stderr and "Aborted" not in result.stderr
    assert server.seen == [] and not (tmp_path / config.FILE_NAME).exists()
    as_json = xbm(tmp_path, server, "login", "--json", **extra)
    assert as_json.returncode == 2
    error = json.loads(as_json.stdout)["error"]
    assert error["kind"] == "usage" and error["exit_code"] == 2 and "XBM_API_KEY" in error["message"]


def test_a_script_gives_the_key_by_option_environment_or_pipe(tmp_path: Path, server: TokenServer) -> None:
    assert xbm(tmp_path, server, "login", "--api-key", "xbm_kept_key").returncode == 0
    piped = xbm(tmp_path, server, "login", "--api-key", "-", stdin=None, input="xbm_kept_key\n")
    assert piped.returncode == 0, piped.stderr
    assert [s.body for s in server.exchanges()] == [{"api_key": "xbm_kept_key"}] * 2


def test_the_login_outlasts_its_token(tmp_path: Path, server: TokenServer) -> None:
    logged = xbm(tmp_path, server, "login", "--api-key", "xbm_kept_key")
    assert logged.returncode == 0, logged.stderr
    kept = tmp_path / config.FILE_NAME
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert json.loads(kept.read_text())["api_key"] == "xbm_kept_key"

    time.sleep(1.5)  # the token has expired: the server refuses it now
    assert json.loads(kept.read_text())["access_token"] == "tok-1" and server.tokens["tok-1"] < time.time()
    result = xbm(tmp_path, server, *REPLAY)
    assert result.returncode == 0, result.stderr
    # the kept key was exchanged again, and the call went with the new token
    assert [s.body for s in server.exchanges()] == [{"api_key": "xbm_kept_key"}] * 2
    (call,) = server.calls()
    assert call.authorization == "Bearer tok-2"
    assert json.loads(kept.read_text())["access_token"] == "tok-2"


def test_a_token_refused_mid_command_is_renewed_once_and_the_call_sent_again(tmp_path: Path) -> None:
    with serving(TokenServer(keys={"xbm_kept_key"}, ttl=3600)) as server:
        assert xbm(tmp_path, server, "login", "--api-key", "xbm_kept_key").returncode == 0
        server.tokens.clear()  # the service no longer takes the token the CLI believes good for an hour
        result = xbm(tmp_path, server, *REPLAY)
        assert result.returncode == 0, result.stderr
        assert [s.authorization for s in server.calls()] == ["Bearer tok-1", "Bearer tok-2"]


def test_logout_forgets_the_key(tmp_path: Path, server: TokenServer) -> None:
    assert xbm(tmp_path, server, "login", "--api-key", "xbm_kept_key").returncode == 0
    out = xbm(tmp_path, server, "logout")
    assert out.returncode == 0 and "forgotten" in out.stderr
    assert not (tmp_path / config.FILE_NAME).exists()
    result = xbm(tmp_path, server, *REPLAY)
    assert result.returncode == 4 and "xbm login" in result.stderr
    assert len(server.exchanges()) == 1 and server.calls() == []


def test_a_revoked_key_ends_the_login_with_exit_4(tmp_path: Path, server: TokenServer) -> None:
    assert xbm(tmp_path, server, "login", "--api-key", "xbm_kept_key").returncode == 0
    server.keys.clear()
    time.sleep(1.5)
    result = xbm(tmp_path, server, "--json", *REPLAY)
    assert result.returncode == 4
    assert "refused the API key" in result.stderr and "xbm login" in result.stderr
    error = json.loads(result.stdout)["error"]
    assert (error["kind"], error["status"], error["problem"]["detail"]) == ("not_logged_in", 401, "unknown key")


def test_the_kept_key_goes_only_to_the_plans_it_was_given_to(tmp_path: Path, server: TokenServer) -> None:
    assert xbm(tmp_path, server, "login", "--api-key", "xbm_kept_key").returncode == 0
    time.sleep(1.5)
    with serving(TokenServer(keys=set())) as elsewhere:
        result = xbm(tmp_path, server, "--plans-url", elsewhere.url, *REPLAY)
        assert result.returncode == 4, result.stderr
        assert elsewhere.exchanges() == []
