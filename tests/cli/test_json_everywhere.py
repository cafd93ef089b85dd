"""`--json` on every command: stdout holds one JSON document, the result or {"error": …}, whatever went wrong and
wherever on the line `--json` is written; and `compliance send` names the rules a mismatched order fails."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from tests.cli.fake import FakeXbm, Sent, problem
from tests.cli.test_compliance_and_events import ORDER
from tests.cli.test_plan import EXAMPLE
from xbm.cli.main import app

CSV = "date,variant,impressions,clicks,cost,conversions,revenue,currency\n2026-03-01,,100,5,1.2,1,30,EUR\n"


def one_json(stdout: str) -> Any:
    """stdout is exactly one JSON document (nothing before or after it)."""
    return json.loads(stdout)


def commands(tmp_path: Path) -> dict[str, tuple[list[str], list[str]]]:
    """Each command: (arguments that succeed, arguments that fail) against the fake."""
    order, csv, bad_csv = tmp_path / "order.json", tmp_path / "m.csv", tmp_path / "bad.csv"
    order.write_text(json.dumps(ORDER))
    csv.write_text(CSV)
    bad_csv.write_text("date,clicks\n")
    report = str(tmp_path / "r.html")
    return {
        "login": (["login", "--api-key", "xbm_k"], ["login", "--api-key", "refused"]),
        "whoami": (["whoami"], ["whoami"]),
        "logout": (["logout"], ["logout"]),
        "plan import": (["plan", "import", str(EXAMPLE)], ["plan", "import", str(tmp_path / "missing.yaml")]),
        "plan report": (["plan", "report", "p-1", "-o", report], ["plan", "report", "gone", "-o", report]),
        "metrics push": (["metrics", "push", "c-1", str(csv)], ["metrics", "push", "c-1", str(bad_csv)]),
        "compliance send": (["compliance", "send", "order", str(order)], ["compliance", "send", "order", "x.json"]),
        "events replay": (
            ["events", "replay", "--service", "plans", "-s", "s", "-d", "d"],
            ["events", "replay", "--service", "plans", "-s", "s", "-d", "alive"],
        ),
    }


def _fake_answers(fake: FakeXbm) -> None:
    fake.overrides[("POST", "/v1/auth/token")] = lambda sent: (
        problem(401, "unknown key")
        if sent.body == {"api_key": "refused"}
        else httpx.Response(200, json={"access_token": "a.eyJvcmciOiAibyJ9.c", "expires_in": 900})
    )
    fake.overrides[("GET", "/v1/plans/gone/report")] = lambda _: problem(404, "no such plan")
    fake.overrides[("POST", "/v1/subscriptions/s/deliveries/alive/replay")] = lambda _: problem(409, "not dead")
    fake.overrides[("POST", "/v1/subscriptions/s/deliveries/d/replay")] = lambda _: httpx.Response(
        200, json={"id": "d", "state": "pending"}
    )


@pytest.mark.parametrize("where", ["before", "after"])
def test_every_command_prints_its_result_and_its_error_as_json(
    runner: CliRunner, fake: FakeXbm, config_dir: Path, tmp_path: Path, where: str
) -> None:
    _fake_answers(fake)

    def run(args: list[str]) -> Any:
        result = runner.invoke(app, ["--json", *args] if where == "before" else [*args, "--json"])
        return result.exit_code, one_json(result.stdout)

    table = commands(tmp_path)
    # a failure before any login: whoami has no token
    code, shown = run(table["whoami"][1])
    assert code == 4 and shown["error"]["kind"] == "not_logged_in" and "xbm login" in shown["error"]["message"]
    code, shown = run(table["login"][1])
    assert code == 4 and shown["error"]["status"] == 401 and shown["error"]["problem"]["detail"] == "unknown key"
    for name in ("login", "whoami", "plan import", "plan report", "metrics push", "compliance send", "events replay"):
        ok, failing = table[name]
        code, shown = run(ok)
        assert code == 0 and "error" not in shown, (name, shown)
        if name == "whoami":
            continue  # its failure (no login) is above
        code, shown = run(failing)
        assert code in (1, 2, 4) and set(shown) == {"error"}, (name, shown)
        assert shown["error"]["exit_code"] == code and shown["error"]["message"], (name, shown)
    code, shown = run(table["logout"][0])
    assert code == 0 and shown == {"logged_out": True}


def test_usage_errors_are_json_too(runner: CliRunner, fake: FakeXbm, config_dir: Path) -> None:
    wrong = (["--json", "plan", "import"], ["plan", "import", "--json", "--no-such-option", "x"], ["--json", "nope"])
    for args in wrong:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, args
        error = one_json(result.stdout)["error"]
        assert error["kind"] == "usage" and error["exit_code"] == 2 and error["message"], args
    assert fake.sent == []


def test_without_json_errors_stay_text_on_stderr(runner: CliRunner, fake: FakeXbm, config_dir: Path) -> None:
    result = runner.invoke(app, ["whoami"])
    assert result.exit_code == 4 and result.stdout == "" and "xbm login" in result.stderr


def test_compliance_send_names_the_rules_a_mismatched_order_fails(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path
) -> None:
    def stored(sent: Sent) -> httpx.Response:
        return httpx.Response(
            201, json={"status": "stored", "ebp_code": "EBP1", "order_no": sent.body["order_no"], "state": "mismatch"}
        )

    checks = [
        {"rule": "amount_paid_matches", "passed": False, "detail": "paid 240.02 CNY, the order says 250.00"},
        {"rule": "buyer_is_payer", "passed": True, "detail": "same person"},
        {"rule": "item_record_exists", "passed": False, "detail": "no item record for SKU SCARF-1"},
    ]
    fake.overrides[("POST", "/v1/compliance/orders")] = stored
    fake.overrides[("GET", "/v1/compliance/orders/EBP1/A-1001")] = lambda _: httpx.Response(
        200, json={"order_no": "A-1001", "state": "mismatch", "checks": checks}
    )
    path = tmp_path / "order.json"
    path.write_text(json.dumps(ORDER))
    result = runner.invoke(app, ["compliance", "send", "order", str(path)])
    assert result.exit_code == 1
    assert "A-1001: mismatch" in result.stdout
    assert "amount_paid_matches: paid 240.02 CNY, the order says 250.00" in result.stdout
    assert "item_record_exists: no item record for SKU SCARF-1" in result.stdout
    assert "buyer_is_payer" not in result.stdout  # a rule the order passes is not a reason
    shown = one_json(runner.invoke(app, ["--json", "compliance", "send", "order", str(path)]).stdout)
    assert [r["rule"] for r in shown["failing_rules"]] == ["amount_paid_matches", "item_record_exists"]
