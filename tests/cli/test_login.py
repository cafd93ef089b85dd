"""xbm login / logout, where the token is kept, and the exit codes for every way a call can fail."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from tests.cli.fake import FakeXbm, problem
from xbm.cli import config
from xbm.cli.main import app


def test_login_exchanges_the_key_and_keeps_the_token_private(
    runner: CliRunner, fake: FakeXbm, config_dir: Path
) -> None:
    result = runner.invoke(app, ["login", "--api-key", "xbm_key_123"])
    assert result.exit_code == 0, result.output
    (sent,) = fake.sent
    assert (sent.service, sent.method, sent.path, sent.body) == (
        "plans",
        "POST",
        "/v1/auth/token",
        {"api_key": "xbm_key_123"},
    )
    assert "authorization" not in sent.headers
    path = config_dir / config.FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    kept = json.loads(path.read_text())
    assert kept["access_token"] == "tok-1"
    assert time.time() + 800 < kept["expires_at"] <= time.time() + 900
    # the key is kept beside the token (the file is the user's alone), to renew the token when it expires
    assert kept["api_key"] == "xbm_key_123"
    assert stat.S_IMODE(config_dir.stat().st_mode) == 0o700


def test_login_prompts_for_the_key_without_echoing_it(
    runner: CliRunner, fake: FakeXbm, config_dir: Path, monkeypatch
) -> None:
    monkeypatch.setattr("xbm.cli.main._interactive", lambda: True)  # a person at a terminal
    result = runner.invoke(app, ["login"], input="xbm_key_typed\n")
    assert result.exit_code == 0
    assert fake.sent[0].body == {"api_key": "xbm_key_typed"}
    assert "xbm_key_typed" not in result.output


def test_login_honours_the_plans_url_option_and_environment(
    runner: CliRunner, fake: FakeXbm, config_dir: Path, monkeypatch
) -> None:
    monkeypatch.setenv("XBM_PLANS_URL", "http://plans.internal:9001")
    assert runner.invoke(app, ["login", "--api-key", "k"]).exit_code == 0
    assert fake.sent[-1].service == "plans.internal"
    assert runner.invoke(app, ["--plans-url", "http://gateway:8000", "login", "--api-key", "k"]).exit_code == 0
    assert fake.sent[-1].service == "gateway"


def test_a_refused_key_exits_4_with_the_problem_and_keeps_nothing(
    runner: CliRunner, fake: FakeXbm, config_dir: Path
) -> None:
    fake.overrides[("POST", "/v1/auth/token")] = lambda _: problem(401, "unknown or revoked API key")
    result = runner.invoke(app, ["login", "--api-key", "wrong"])
    assert result.exit_code == 4
    assert "401" in result.stderr and "unknown or revoked API key" in result.stderr
    assert not (config_dir / config.FILE_NAME).exists()


def test_a_key_plans_refuses_otherwise_exits_1(runner: CliRunner, fake: FakeXbm, config_dir: Path) -> None:
    fake.overrides[("POST", "/v1/auth/token")] = lambda _: problem(429, "too many attempts")
    result = runner.invoke(app, ["login", "--api-key", "xbm_k"])
    assert result.exit_code == 1 and "too many attempts" in result.stderr


def test_an_empty_login_exits_2_and_sends_nothing(
    runner: CliRunner, fake: FakeXbm, config_dir: Path, monkeypatch
) -> None:
    monkeypatch.setattr("xbm.cli.main._interactive", lambda: True)
    for args, typed in ((["login"], "\n"), (["login"], "   \n"), (["login", "--api-key", ""], None)):
        result = runner.invoke(app, args, input=typed)
        assert result.exit_code == 2, (args, result.output)
    assert not fake.sent
    assert not (config_dir / config.FILE_NAME).exists()


def _token(claims: dict) -> str:  # type: ignore[type-arg]
    import base64

    def part(value: dict) -> str:  # type: ignore[type-arg]
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'EdDSA', 'kid': 'k1'})}.{part(claims)}.c2ln"


def test_whoami_names_the_organisation_and_role_that_plans_confirms(
    runner: CliRunner, fake: FakeXbm, config_dir: Path
) -> None:
    token = _token({"org": "org-7", "role": "analyst", "sub": "key-3", "exp": 1893456000})
    config.save(config_dir, config.Credentials(token, time.time() + 600, "http://127.0.0.1:8001"))
    fake.overrides[("GET", "/v1/orgs/org-7")] = lambda _: httpx.Response(200, json={"id": "org-7", "name": "Company A"})
    result = runner.invoke(app, ["whoami"])
    assert result.exit_code == 0, result.stderr
    assert "Company A (org-7)" in result.stdout and "analyst" in result.stdout and "2030-01-01" in result.stdout
    (sent,) = fake.sent
    assert sent.headers["authorization"] == f"Bearer {token}"
    as_json = json.loads(runner.invoke(app, ["--json", "whoami"]).stdout)
    assert (as_json["org_name"], as_json["role"], as_json["subject"]) == ("Company A", "analyst", "key-3")


def test_whoami_with_a_token_plans_refuses_exits_4(runner: CliRunner, fake: FakeXbm, config_dir: Path) -> None:
    token = _token({"org": "org-7", "role": "admin", "sub": "k", "exp": 1893456000})
    config.save(config_dir, config.Credentials(token, time.time() + 600, "http://127.0.0.1:8001"))
    fake.overrides[("GET", "/v1/orgs/org-7")] = lambda _: problem(401, "invalid token")
    assert runner.invoke(app, ["whoami"]).exit_code == 4


def test_version(runner: CliRunner, fake: FakeXbm) -> None:
    import importlib.metadata

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"xbm {importlib.metadata.version('xbm')}"
    assert not fake.sent


def test_later_commands_use_the_urls_logged_in_against(
    runner: CliRunner, fake: FakeXbm, config_dir: Path, monkeypatch
) -> None:
    args = ["--plans-url", "http://plans.corp:9001", "--campaigns-url", "http://campaigns.corp:9002"]
    assert runner.invoke(app, [*args, "login", "--api-key", "xbm_k"]).exit_code == 0
    fake.sent.clear()
    # no URL given now: the token goes where it was issued, never to whatever listens on the default ports
    assert runner.invoke(app, ["events", "replay", "--service", "campaigns", "-s", "s", "-d", "d"]).exit_code == 0
    assert runner.invoke(app, ["events", "replay", "--service", "plans", "-s", "s", "-d", "d"]).exit_code == 0
    assert [s.service for s in fake.sent] == ["campaigns.corp", "plans.corp"]
    # told otherwise, it goes there
    monkeypatch.setenv("XBM_PLANS_URL", "http://elsewhere:1")
    assert runner.invoke(app, ["events", "replay", "--service", "plans", "-s", "s", "-d", "d"]).exit_code == 0
    assert fake.sent[-1].service == "elsewhere"


def test_an_unreachable_service_exits_3_naming_it(runner: CliRunner, config_dir: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    from xbm.cli.api import use_transport

    with use_transport(httpx.MockTransport(refuse)):
        result = runner.invoke(app, ["login", "--api-key", "k"])
    assert result.exit_code == 3
    assert "cannot reach plans at http://127.0.0.1:8001" in result.stderr


def test_a_bad_service_url_is_a_usage_error(runner: CliRunner, fake: FakeXbm, config_dir: Path) -> None:
    result = runner.invoke(app, ["--campaigns-url", "ftp://x", "logout"])
    assert result.exit_code == 2
    assert not fake.sent


def test_commands_without_a_login_exit_4_and_send_nothing(runner: CliRunner, fake: FakeXbm, config_dir: Path) -> None:
    result = runner.invoke(app, ["plan", "report", "p1", "-o", str(config_dir.parent / "r.html")])
    assert result.exit_code == 4
    assert "xbm login" in result.stderr
    assert not fake.sent


def test_an_expired_token_exits_4(runner: CliRunner, fake: FakeXbm, config_dir: Path) -> None:
    config.save(config_dir, config.Credentials("old", time.time() - 1, "http://127.0.0.1:8001"))
    result = runner.invoke(app, ["events", "replay", "--service", "plans", "-s", "s1", "-d", "d1"])
    assert result.exit_code == 4
    assert "expired" in result.stderr
    assert not fake.sent


def test_a_token_the_service_refuses_exits_4(runner: CliRunner, fake: FakeXbm, logged_in: Path) -> None:
    fake.overrides[("POST", "/v1/subscriptions/s1/deliveries/d1/replay")] = lambda _: problem(401, "token expired")
    result = runner.invoke(app, ["events", "replay", "--service", "plans", "-s", "s1", "-d", "d1"])
    assert result.exit_code == 4
    assert "token expired" in result.stderr


def test_an_api_key_in_the_environment_logs_in_on_the_fly(
    runner: CliRunner, fake: FakeXbm, config_dir: Path, monkeypatch
) -> None:
    monkeypatch.setenv("XBM_API_KEY", "xbm_env_key")
    result = runner.invoke(app, ["events", "replay", "--service", "campaigns", "-s", "s1", "-d", "d1"])
    assert result.exit_code == 0, result.stderr
    token, replay = fake.sent
    assert token.body == {"api_key": "xbm_env_key"}
    assert replay.headers["authorization"] == "Bearer tok-1"
    assert not (config_dir / config.FILE_NAME).exists()


def test_a_damaged_config_file_exits_4(runner: CliRunner, fake: FakeXbm, config_dir: Path) -> None:
    config_dir.mkdir(parents=True)
    (config_dir / config.FILE_NAME).write_text("{not json")
    result = runner.invoke(app, ["events", "replay", "--service", "plans", "-s", "s", "-d", "d"])
    assert result.exit_code == 4
    assert config.FILE_NAME in result.stderr


def test_logout_forgets_the_token(runner: CliRunner, logged_in: Path) -> None:
    assert runner.invoke(app, ["logout"]).exit_code == 0
    assert not (logged_in / config.FILE_NAME).exists()
    result = runner.invoke(app, ["logout"])
    assert result.exit_code == 0 and "was not logged in" in result.stderr


def test_the_default_config_dir_is_the_users_app_dir(monkeypatch) -> None:
    monkeypatch.delenv("XBM_CONFIG_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", "/tmp/somewhere")
    assert config.config_dir() == Path("/tmp/somewhere/xbm")


def test_without_a_login_or_urls_the_cli_goes_where_make_run_listens(
    runner: CliRunner, fake: FakeXbm, config_dir: Path, monkeypatch
) -> None:
    monkeypatch.setenv("XBM_PLANS_PORT", "18001")
    assert runner.invoke(app, ["login", "--api-key", "xbm_k"]).exit_code == 0
    assert str(fake.sent[-1].headers["host"]) == "127.0.0.1:18001"


def test_json_output_for_scripts(runner: CliRunner, fake: FakeXbm, config_dir: Path, tmp_path: Path) -> None:
    logged = runner.invoke(app, ["--json", "login", "--api-key", "xbm_k"])
    assert logged.exit_code == 0, logged.stderr
    assert json.loads(logged.stdout)["expires_in"] == 900
    csv = tmp_path / "m.csv"
    csv.write_text(
        "date,variant,impressions,clicks,cost,conversions,revenue,currency\n2026-03-01,,100,5,1.2,1,30,EUR\n"
    )
    pushed = runner.invoke(app, ["--json", "metrics", "push", "c-1", str(csv)])
    assert pushed.exit_code == 0, pushed.stderr
    assert json.loads(pushed.stdout) == {"campaign_id": "c-1", "rows": 1}
