"""xbm compliance send and xbm events replay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli.main import app
from tests.cli.fake import FakeXbm, problem

ORDER = {"order_no": "A-1001", "ebp_code": "EBP1", "currency": "USD", "items": [{"gnum": 1, "qty": "1"}]}


@pytest.mark.parametrize("kind", ["order", "payment", "waybill"])
def test_a_document_goes_to_its_compliance_route(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(ORDER))
    result = runner.invoke(app, ["compliance", "send", kind, str(path)])
    assert result.exit_code == 0, result.stderr
    (sent,) = fake.sent
    assert (sent.service, sent.method, sent.path, sent.body) == ("compliance", "POST", f"/v1/compliance/{kind}s", ORDER)
    assert sent.headers["authorization"] == "Bearer tok-saved"
    assert json.loads(result.stdout)["order_no"] == "A-1001"


def test_a_list_of_documents_is_sent_one_by_one(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path
) -> None:
    documents = [{**ORDER, "order_no": f"A-{i}"} for i in range(3)]
    path = tmp_path / "orders.json"
    path.write_text(json.dumps(documents))
    result = runner.invoke(app, ["compliance", "send", "order", str(path)])
    assert result.exit_code == 0, result.stderr
    assert [s.body["order_no"] for s in fake.sent] == ["A-0", "A-1", "A-2"]
    assert [r["order_no"] for r in json.loads(result.stdout)] == ["A-0", "A-1", "A-2"]


def test_the_compliance_url_comes_from_the_environment(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("XBM_COMPLIANCE_URL", "http://customs-box:9003")
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(ORDER))
    assert runner.invoke(app, ["compliance", "send", "waybill", str(path)]).exit_code == 0
    assert fake.sent[0].service == "customs-box"


@pytest.mark.parametrize(
    ("kind", "content"),
    [("invoice", json.dumps(ORDER)), ("order", "{not json"), ("order", "[]"), ("order", "[1, 2]"), ("order", '"x"')],
)
def test_bad_input_exits_2_and_sends_nothing(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path, kind: str, content: str
) -> None:
    path = tmp_path / "doc.json"
    path.write_text(content)
    assert runner.invoke(app, ["compliance", "send", kind, str(path)]).exit_code == 2
    assert not fake.sent


def test_a_refused_document_exits_1_with_the_problem(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path
) -> None:
    fake.overrides[("POST", "/v1/compliance/payments")] = lambda _: problem(403, "the integration role is required")
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(ORDER))
    result = runner.invoke(app, ["compliance", "send", "payment", str(path)])
    assert result.exit_code == 1
    assert "403" in result.stderr and "the integration role is required" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(("service", "host_port"), [("plans", 8001), ("campaigns", 8002), ("compliance", 8003)])
def test_replay_posts_to_the_delivery_on_the_chosen_service(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, service: str, host_port: int
) -> None:
    args = ["events", "replay", "--service", service, "--subscription", "sub-1", "--delivery", "del-9"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    (sent,) = fake.sent
    assert (sent.service, sent.method, sent.path) == (
        service,
        "POST",
        "/v1/subscriptions/sub-1/deliveries/del-9/replay",
    )
    assert sent.body is None


def test_replay_needs_its_options(runner: CliRunner, fake: FakeXbm, logged_in: Path) -> None:
    assert runner.invoke(app, ["events", "replay", "--service", "plans", "-s", "sub-1"]).exit_code == 2
    assert runner.invoke(app, ["events", "replay", "--service", "billing", "-s", "a", "-d", "b"]).exit_code == 2
    assert not fake.sent


def test_replaying_a_delivery_that_is_not_dead_exits_1(runner: CliRunner, fake: FakeXbm, logged_in: Path) -> None:
    fake.overrides[("POST", "/v1/subscriptions/s/deliveries/d/replay")] = lambda _: problem(409, "not dead")
    result = runner.invoke(app, ["events", "replay", "--service", "campaigns", "-s", "s", "-d", "d"])
    assert result.exit_code == 1 and "not dead" in result.stderr
