"""xbm plan import / report: the requests a plan file turns into, in order, with names mapped to ids."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from tests.cli.fake import FakeXbm, problem
from xbm.cli import plan_file
from xbm.cli.main import app

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "company-a" / "plan.yaml"

SMALL = """
plan: {name: P, period_start: 2026-01-01, period_end: 2026-12-31, base_currency: USD, trade_direction: export}
environment_factors:
  - {ref: f1, scope: macro, category: social, description: d, impact: 2}
swot_items:
  - {quadrant: opportunity, description: o, weight: 0.5, factor: f1}
  - {quadrant: strength, description: s, weight: 0.5}
segments:
  - {name: Seg A, countries: [US], description: a, size_estimate: 1, growth_rate: "0.1", attractiveness: 5, fit: 5}
targeting: {segments: [Seg A]}
positioning:
  {target_segment: Seg A, statement: s, frame_of_reference: f, points_of_difference: [], reasons_to_believe: []}
customers:
  - {name: Cust, segment: Seg A, description: c, needs: [{statement: n, demand: strong, evidence: e}]}
channels:
  - {name: Chan, platform: alibaba_international, mode: platform, business_model: B2B, countries: [US]}
products:
  - {sku: SKU1, name: Kit, unit_cost: {amount: "1", currency: USD}, price: {amount: "2", currency: USD}}
sbus:
  - customer: Cust
    channel: Chan
    product: SKU1
    need: n
    demand: strong
    budget: {amount: "10", currency: USD}
    revenue_target: {amount: "20", currency: USD}
    owner: o
activate: true
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(text)
    return path


def _created_id(fake: FakeXbm, path_end: str, **match: object) -> str:
    """The id the fake gave the object created at ``path_end`` whose body holds ``match``."""
    for sent in fake.requests():
        if sent.path.endswith(path_end) and sent.created_id and all(sent.body.get(k) == v for k, v in match.items()):
            return sent.created_id
    raise AssertionError(f"nothing created at {path_end} with {match}")


def test_import_sends_the_plan_in_order_and_maps_names_to_ids(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["plan", "import", str(_write(tmp_path, SMALL))])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "id-1"
    sent = fake.requests()
    assert [(s.method, s.path) for s in sent] == [
        ("POST", "/v1/plans"),
        ("POST", "/v1/plans/id-1/environment-factors"),
        ("POST", "/v1/plans/id-1/swot-items"),
        ("POST", "/v1/plans/id-1/swot-items"),
        ("POST", "/v1/plans/id-1/segments"),
        ("PUT", "/v1/plans/id-1/targeting"),
        ("PUT", "/v1/plans/id-1/positioning"),
        ("POST", "/v1/plans/id-1/customers"),
        ("POST", "/v1/plans/id-1/channels"),
        ("POST", "/v1/plans/id-1/products"),
        ("POST", "/v1/plans/id-1/sbus"),
        ("POST", "/v1/plans/id-1/activate"),
    ]
    assert all(s.service == "plans" and s.headers["authorization"] == "Bearer tok-saved" for s in sent)
    assert sent[0].body == {
        "name": "P",
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "base_currency": "USD",
        "trade_direction": "export",
    }
    factor, segment = _created_id(fake, "/environment-factors"), _created_id(fake, "/segments", name="Seg A")
    assert "ref" not in sent[1].body
    assert sent[2].body["factor_id"] == factor and "factor" not in sent[2].body
    assert "factor_id" not in sent[3].body
    assert sent[5].body == {"segment_ids": [segment]}
    assert sent[6].body["target_segment_id"] == segment and "target_segment" not in sent[6].body
    assert sent[7].body["segment_id"] == segment
    assert sent[10].body == {
        "customer_id": _created_id(fake, "/customers", name="Cust"),
        "channel_id": _created_id(fake, "/channels", name="Chan"),
        "product_id": _created_id(fake, "/products", sku="SKU1"),
        "need": "n",
        "demand": "strong",
        "budget": {"amount": "10", "currency": "USD"},
        "revenue_target": {"amount": "20", "currency": "USD"},
        "owner": "o",
    }
    assert sent[11].body is None


def test_company_a_imports_with_every_reference_resolved(runner: CliRunner, fake: FakeXbm, logged_in: Path) -> None:
    result = runner.invoke(app, ["plan", "import", str(EXAMPLE)])
    assert result.exit_code == 0, result.stderr
    document = yaml.safe_load(EXAMPLE.read_text())
    sent = fake.requests()
    by_path: dict[str, list] = {}
    for s in sent[1:]:
        by_path.setdefault(s.path.rsplit("/", 1)[1], []).append(s.body)
    assert len(by_path["sbus"]) == len(document["sbus"]) >= 2
    assert {q["quadrant"] for q in by_path["swot-items"]} == {"strength", "weakness", "opportunity", "threat"}
    ids = {
        kind: {s.created_id for s in sent if s.path.endswith(f"/{kind}")}
        for kind in ("customers", "channels", "products")
    }
    for sbu in by_path["sbus"]:
        assert sbu["customer_id"] in ids["customers"]
        assert sbu["channel_id"] in ids["channels"]
        assert sbu["product_id"] in ids["products"]
        assert set(sbu) == {
            "customer_id",
            "channel_id",
            "product_id",
            "need",
            "demand",
            "budget",
            "revenue_target",
            "owner",
        }
    for product in by_path["products"]:
        assert float(product["price"]["amount"]) <= float(product["price_ceiling"]["amount"])
        if product["unit_cost"]["currency"] == product["price"]["currency"]:
            assert float(product["unit_cost"]["amount"]) < float(product["price"]["amount"])
    for segment in by_path["segments"]:
        assert all(len(code) == 2 and code.isupper() for code in segment["countries"])
    assert {n["demand"] for c in by_path["customers"] for n in c["needs"]} == {"strong", "weak", "pseudo"}
    assert len(by_path["targeting"][0]["segment_ids"]) == 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["sbus"][0].update(customer="Nobody"), "customer 'Nobody' names nothing in customers"),
        (lambda d: d["swot_items"][0].update(factor="f9"), "factor 'f9' names nothing"),
        (lambda d: d.update(targeting={"segments": ["Seg Z"]}), "segment 'Seg Z'"),
        (lambda d: d.update(extra=1), "unknown top-level key(s) extra"),
        (lambda d: d["segments"].append(dict(d["segments"][0])), "'Seg A' is used twice"),
        (lambda d: d.update(customers={"name": "x"}), "customers must be a list"),
        (lambda d: d["sbus"][0].update(customer_id="c-1"), "give customer or customer_id, not both"),
    ],
)
def test_a_bad_plan_file_exits_2_and_sends_nothing(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path, change, message: str
) -> None:
    document = yaml.safe_load(SMALL)
    change(document)
    result = runner.invoke(app, ["plan", "import", str(_write(tmp_path, yaml.safe_dump(document)))])
    assert result.exit_code == 2
    assert message in result.stderr
    assert not fake.sent


def test_a_file_that_is_not_yaml_or_missing_exits_2(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path
) -> None:
    assert runner.invoke(app, ["plan", "import", str(_write(tmp_path, "plan: [unclosed"))]).exit_code == 2
    assert runner.invoke(app, ["plan", "import", str(tmp_path / "missing.yaml")]).exit_code == 2
    assert not fake.sent


def test_a_refusal_midway_exits_1_names_the_step_and_removes_the_plan(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path
) -> None:
    fake.overrides[("POST", "/v1/plans/id-1/sbus")] = lambda _: problem(
        409, "this customer, channel and product already have a live SBU"
    )
    result = runner.invoke(app, ["plan", "import", str(_write(tmp_path, SMALL))])
    assert result.exit_code == 1
    assert "409" in result.stderr and "already have a live SBU" in result.stderr
    assert "sbus[0]" in result.stderr and "plan id-1 was removed" in result.stderr
    assert [(s.method, s.path) for s in fake.requests()[-2:]] == [
        ("POST", "/v1/plans/id-1/sbus"),
        ("DELETE", "/v1/plans/id-1"),
    ]


def test_a_plan_that_cannot_be_removed_says_so(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path
) -> None:
    fake.overrides[("POST", "/v1/plans/id-1/sbus")] = lambda _: problem(422, "bad SBU")
    fake.overrides[("DELETE", "/v1/plans/id-1")] = lambda _: problem(409, "only a draft can be deleted")
    result = runner.invoke(app, ["plan", "import", str(_write(tmp_path, SMALL))])
    assert result.exit_code == 1
    assert "could not be removed and is left as a draft" in result.stderr


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d["plan"].update(base_currency="usd"), "plan.base_currency"),
        (lambda d: d["sbus"][0].update(demand="huge"), "sbus[0]: demand"),
        (
            lambda d: d["products"][0]["price"].update(amount="two"),
            "products[0] Kit: price.amount: 'two' does not match",
        ),
        (lambda d: d["segments"][0].update(colour="blue"), "segments[0] Seg A: (body)"),
    ],
)
def test_a_body_plans_would_refuse_exits_2_and_sends_nothing(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path, change, reason: str
) -> None:
    document = yaml.safe_load(SMALL)
    change(document)
    result = runner.invoke(app, ["plan", "import", str(_write(tmp_path, yaml.safe_dump(document)))])
    assert result.exit_code == 2, result.stderr
    assert "nothing was sent" in result.stderr and reason in result.stderr
    assert fake.writes() == []


def test_dry_run_checks_everything_and_sends_nothing(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["--json", "plan", "import", "--dry-run", str(_write(tmp_path, SMALL))])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["dry_run"] is True and summary["requests"] == 12 and summary["steps"][-1] == "activate"
    assert fake.writes() == []
    bad = yaml.safe_load(SMALL)
    bad["sbus"][0]["demand"] = "huge"
    result = runner.invoke(app, ["plan", "import", "--dry-run", str(_write(tmp_path, yaml.safe_dump(bad)))])
    assert result.exit_code == 2 and fake.writes() == []


def test_a_plan_key_makes_the_import_idempotent(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path
) -> None:
    document = yaml.safe_load(SMALL)
    document["plan"]["key"] = "company-a-2026"
    path = _write(tmp_path, yaml.safe_dump(document))
    listed = "/v1/plans?key=company-a-2026&limit=1"
    fake.overrides[("GET", listed)] = lambda _: httpx.Response(200, json={"items": [], "next_cursor": None})
    first = runner.invoke(app, ["plan", "import", str(path)])
    assert first.exit_code == 0, first.stderr
    assert fake.requests()[1].body["key"] == "company-a-2026"
    writes = len(fake.writes())
    fake.overrides[("GET", listed)] = lambda _: httpx.Response(200, json={"items": [{"id": "id-1"}]})
    again = runner.invoke(app, ["--json", "plan", "import", str(path)])
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout) == {"plan_id": "id-1", "created": False}
    assert "imported before" in again.stderr
    assert len(fake.writes()) == writes  # nothing more was created


def test_report_to_stdout(runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["plan", "report", "p1", "-o", "-"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "<html><body>plan</body></html>"
    assert not (tmp_path / "-").exists()


def test_validation_errors_are_printed_field_by_field(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path
) -> None:
    fake.overrides[("POST", "/v1/plans")] = lambda _: problem(
        422, "validation failed", [{"loc": ["body", "base_currency"], "msg": "not an ISO 4217 code"}]
    )
    result = runner.invoke(app, ["plan", "import", str(_write(tmp_path, SMALL))])
    assert result.exit_code == 1
    assert "body.base_currency: not an ISO 4217 code" in result.stderr


def test_report_is_written_where_asked(runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan.html"
    result = runner.invoke(app, ["plan", "report", "p 1/x", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert out.read_text() == "<html><body>plan</body></html>"
    (sent,) = fake.sent
    # an id stays one path segment whatever it holds
    assert (sent.method, sent.path) == ("GET", "/v1/plans/p%201%2Fx/report")


def test_report_of_an_unknown_plan_exits_1_and_writes_nothing(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path
) -> None:
    fake.overrides[("GET", "/v1/plans/nope/report")] = lambda _: problem(404, "plan not found")
    out = tmp_path / "plan.html"
    result = runner.invoke(app, ["plan", "report", "nope", "-o", str(out)])
    assert result.exit_code == 1 and "plan not found" in result.stderr
    assert not out.exists()


def test_the_parser_keeps_the_layers_in_dependency_order() -> None:
    steps = plan_file.parse(EXAMPLE.read_text()).steps
    order = [s.kind or s.label for s in steps]
    first = {name: order.index(name) for name in dict.fromkeys(order)}
    assert first["segments"] < first["targeting"] < first["positioning"] < first["customers"]
    assert max(first[k] for k in ("customers", "channels", "products")) < first["sbus"]


def test_without_the_schema_the_service_checks_the_bodies(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path
) -> None:
    fake.overrides[("GET", "/openapi.json")] = lambda _: problem(404, "not routed")
    result = runner.invoke(app, ["plan", "import", str(_write(tmp_path, SMALL))])
    assert result.exit_code == 0, result.stderr
    assert "checked by plans only" in result.stderr and result.stdout.strip() == "id-1"
