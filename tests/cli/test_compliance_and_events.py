"""xbm compliance send and xbm events replay."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from tests.cli.fake import FakeXbm, Sent, problem
from tests.compliance.support import EBP, buyer_id, payment, waybill
from xbm.cli.main import app

ORDER = {
    "order_no": "A-1001", "ebp_code": EBP, "ebc_code": EBP, "goods_value": "200.00", "freight": "20.00",
    "tax_total": "20.02", "actual_paid": "240.02", "currency": "142",
    "buyer": {"reg_no": "u1", "name": "Jiao Hongyu", "id_number": buyer_id(1), "telephone": "13522652231"},
    "consignee": {"name": "Jiao Hongyu", "telephone": "13522652231", "address": "Beijing Haidian 1 Zhongguancun"},
    "items": [{"gnum": 1, "item_no": "SCARF-1", "name": "Wool scarf", "qty": "2", "price": "100", "total": "200"}],
}  # fmt: skip
DOCUMENTS = {"order": ORDER, "payment": payment("A-1001", buyer=buyer_id(1)), "waybill": waybill("A-1001")}


@pytest.mark.parametrize("kind", ["order", "payment", "waybill"])
def test_a_document_goes_to_its_compliance_route(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(DOCUMENTS[kind]))
    result = runner.invoke(app, ["compliance", "send", kind, str(path)])
    assert result.exit_code == 0, result.stderr
    (sent,) = fake.requests()
    assert (sent.service, sent.method, sent.path) == ("compliance", "POST", f"/v1/compliance/{kind}s")
    assert sent.body == DOCUMENTS[kind]
    assert sent.headers["authorization"] == "Bearer tok-saved"
    shown = json.loads(result.stdout)
    assert shown["order_no"] == "A-1001" and shown["result"] == "ok"


def test_a_list_of_documents_is_sent_one_by_one(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path
) -> None:
    documents = [{**ORDER, "order_no": f"A-{i}"} for i in range(3)]
    path = tmp_path / "orders.json"
    path.write_text(json.dumps(documents))
    result = runner.invoke(app, ["compliance", "send", "order", str(path)])
    assert result.exit_code == 0, result.stderr
    assert [s.body["order_no"] for s in fake.requests()] == ["A-0", "A-1", "A-2"]
    assert [r["order_no"] for r in json.loads(result.stdout)] == ["A-0", "A-1", "A-2"]


def _answer_by_order(states: dict[str, int | str]):  # type: ignore[no-untyped-def]
    """Refuse the documents whose order_no maps to a status code; answer the others with that order state."""

    def answer(sent: Sent) -> httpx.Response:
        outcome = states[sent.body["order_no"]]
        if isinstance(outcome, int):
            return problem(outcome, f"{sent.body['order_no']} refused")
        return httpx.Response(201, json={"status": "stored", "order_no": sent.body["order_no"], "state": outcome})

    return answer


def test_a_batch_reports_each_document_and_exits_1_when_one_is_refused_or_mismatched(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path
) -> None:
    fake.overrides[("POST", "/v1/compliance/orders")] = _answer_by_order(
        {"A-0": "awaiting_documents", "A-1": 422, "A-2": "mismatch", "A-3": "matched"}
    )
    path = tmp_path / "orders.json"
    path.write_text(json.dumps([{**ORDER, "order_no": f"A-{i}"} for i in range(4)]))
    result = runner.invoke(app, ["compliance", "send", "order", str(path)])
    assert result.exit_code == 1
    # every document was tried, and the output says which were stored
    assert [s.body["order_no"] for s in fake.requests()] == ["A-0", "A-1", "A-2", "A-3"]
    shown = json.loads(result.stdout)
    assert [(r["order_no"], r["result"]) for r in shown] == [
        ("A-0", "ok"),
        ("A-1", "refused"),
        ("A-2", "mismatch"),
        ("A-3", "ok"),
    ]
    assert "A-1 refused" in shown[1]["error"]
    assert "2 of 4 documents failed or mismatched" in result.stderr


def test_a_single_mismatched_document_exits_1(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path
) -> None:
    fake.overrides[("POST", "/v1/compliance/orders")] = _answer_by_order({"A-1001": "mismatch"})
    path = tmp_path / "order.json"
    path.write_text(json.dumps(ORDER))
    result = runner.invoke(app, ["compliance", "send", "order", str(path)])
    assert result.exit_code == 1 and json.loads(result.stdout)["result"] == "mismatch"


@pytest.mark.parametrize(
    ("kind", "change", "reason"),
    [
        ("order", lambda d: d.pop("order_no"), "order_no"),
        ("order", lambda d: d.update(actual_paid="lots"), "actual_paid"),
        ("payment", lambda d: d.update(unexpected=1), "unexpected"),
        ("waybill", lambda d: d.update(weight_kg=[1]), "weight_kg"),
    ],
)
def test_a_document_failing_compliance_s_schema_exits_2_and_sends_nothing(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path, kind: str, change, reason: str
) -> None:
    documents = [json.loads(json.dumps(DOCUMENTS[kind])) for _ in range(3)]
    change(documents[2])
    path = tmp_path / "docs.json"
    path.write_text(json.dumps(documents))
    result = runner.invoke(app, ["compliance", "send", kind, str(path)])
    assert result.exit_code == 2, result.stderr
    assert "nothing was sent" in result.stderr and "[2]" in result.stderr and reason in result.stderr
    assert fake.writes() == []


def test_the_compliance_url_comes_from_the_environment(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("XBM_COMPLIANCE_URL", "http://customs-box:9003")
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(DOCUMENTS["waybill"]))
    assert runner.invoke(app, ["compliance", "send", "waybill", str(path)]).exit_code == 0
    assert {s.service for s in fake.sent} == {"customs-box"}


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
    assert fake.writes() == []


def test_a_refused_document_exits_1_with_the_problem(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path
) -> None:
    fake.overrides[("POST", "/v1/compliance/payments")] = lambda _: problem(403, "the integration role is required")
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(DOCUMENTS["payment"]))
    result = runner.invoke(app, ["compliance", "send", "payment", str(path)])
    assert result.exit_code == 1
    assert "403" in result.stderr and "the integration role is required" in result.stderr
    assert json.loads(result.stdout)["result"] == "refused"


@pytest.mark.parametrize(("service", "host_port"), [("plans", 8001), ("campaigns", 8002), ("compliance", 8003)])
def test_replay_posts_to_the_delivery_on_the_chosen_service(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, service: str, host_port: int
) -> None:
    args = ["events", "replay", "--service", service, "--subscription", "sub-1", "--delivery", "del-9"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    (sent,) = fake.requests()
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


def test_a_service_gone_mid_batch_exits_3_and_says_what_was_sent(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path
) -> None:
    def gone(sent: Sent) -> httpx.Response:
        if sent.body["order_no"] == "A-2":
            raise httpx.ConnectError("connection refused")
        return httpx.Response(201, json={"status": "stored", "order_no": sent.body["order_no"], "state": "matched"})

    fake.overrides[("POST", "/v1/compliance/orders")] = gone
    path = tmp_path / "orders.json"
    path.write_text(json.dumps([{**ORDER, "order_no": f"A-{i}"} for i in range(4)]))
    result = runner.invoke(app, ["compliance", "send", "order", str(path)])
    assert result.exit_code == 3
    assert [r["order_no"] for r in json.loads(result.stdout)] == ["A-0", "A-1"]
    assert "2 of 4 documents were sent before this one" in result.stderr


def _order_view(order_no: str, state: str, **extra: Any) -> dict[str, Any]:
    return {"ebp_code": EBP, "order_no": order_no, "state": state, "checks": [], "refusal": None, **extra}


def test_rematch_compares_each_order_again_and_exits_1_while_one_is_still_held(
    runner: CliRunner, fake: FakeXbm, logged_in: Path
) -> None:
    base = f"/v1/compliance/orders/{EBP}"
    failing = [{"rule": "item_records", "passed": False, "detail": "no item record for MITTENS-9"}]
    fake.overrides[("POST", f"{base}/A-1/rematch")] = lambda s: httpx.Response(200, json=_order_view("A-1", "declared"))
    fake.overrides[("POST", f"{base}/A-2/rematch")] = lambda s: httpx.Response(
        200, json=_order_view("A-2", "mismatch", checks=failing)
    )
    fake.overrides[("POST", f"{base}/A%2F3/rematch")] = lambda s: problem(409, "a declared order is not compared again")
    result = runner.invoke(app, ["compliance", "rematch", EBP, "A-1", "A-2", "A/3"])
    assert result.exit_code == 1
    assert [(s.method, s.path, s.body) for s in fake.requests()] == [
        ("POST", f"{base}/A-1/rematch", None),
        ("POST", f"{base}/A-2/rematch", None),
        ("POST", f"{base}/A%2F3/rematch", None),  # an order number is one path segment, whatever it holds
    ]
    assert result.stdout.splitlines() == [
        f"{EBP}/A-1: declared",
        f"{EBP}/A-2: mismatch (no item record for MITTENS-9)",
    ]
    assert "A/3" in result.stderr and "409" in result.stderr and "2 of 3 orders" in result.stderr


def test_rematch_of_orders_that_clear_exits_0_and_prints_their_views_as_json(
    runner: CliRunner, fake: FakeXbm, logged_in: Path
) -> None:
    path = f"/v1/compliance/orders/{EBP}/A-1/rematch"
    fake.overrides[("POST", path)] = lambda s: httpx.Response(200, json=_order_view("A-1", "declared"))
    result = runner.invoke(app, ["--json", "compliance", "rematch", EBP, "A-1"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [{"order_no": "A-1", "result": "ok", "order": _order_view("A-1", "declared")}]
