"""`xbm plan import --dry-run` checks what plans checks, decimal strings included, and needs no login; the CLI's
check of a decimal agrees with the service's own model on every decimal field a request body has."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError
from typer.testing import CliRunner

from tests.cli.fake import FakeXbm
from tests.cli.test_plan import EXAMPLE, SMALL
from xbm.cli.main import app
from xbm.cli.schema import Schemas

#: decimals as strings across every bound XBM sets (fractions, growth -1..3, money up to 1e14, rates up to 1e9)
PROBES = [
    "-100000000000000.01", "-100000000000000", "-2", "-1.01", "-1", "-0.01", "0", "0.01", "0.5", "0.99", "1",
    "1.01", "2.99", "3", "3.01", "10", "999999999.99", "1000000000", "1000000000.01", "99999999999999.99",
    "100000000000000", "100000000000000.01",
    # places and digits as the service counts them: trailing zeros of the fraction and leading zeros do not count
    "0.00001", "1.50000", "0.0001", "0.123456789012", "0000000000000000000001",
]  # fmt: skip


def test_a_dry_run_needs_no_login(runner: CliRunner, fake: FakeXbm, config_dir: Path) -> None:
    result = runner.invoke(app, ["plan", "import", "--dry-run", str(EXAMPLE)])
    assert result.exit_code == 0, result.stderr
    assert "is valid" in result.stderr and "nothing was sent" in result.stderr
    # it read plans' public schema, without a token, and nothing else
    assert [(s.method, s.path) for s in fake.sent] == [("GET", "/openapi.json")]
    assert "authorization" not in fake.sent[0].headers
    as_json = runner.invoke(app, ["--json", "plan", "import", "--dry-run", str(EXAMPLE)])
    assert as_json.exit_code == 0 and json.loads(as_json.stdout)["valid"] is True
    # the import itself still needs the login
    assert runner.invoke(app, ["plan", "import", str(EXAMPLE)]).exit_code == 4


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("weight: 0.5, factor: f1", 'weight: "1.5", factor: f1', "weight"),
        ('growth_rate: "0.1"', 'growth_rate: "-2"', "growth_rate"),
        ('budget: {amount: "10"', 'budget: {amount: "-10"', "budget.amount"),
        ('price: {amount: "2"', 'price: {amount: "100000000000000.01"', "price.amount"),
        ("trade_direction: export}", 'trade_direction: export, min_repurchase_rate: "1.2"}', "min_repurchase_rate"),
        (
            "trade_direction: export}",
            'trade_direction: export, fx_rates: [{currency: CNY, rate: "0", as_of: 2026-01-02, source: PBOC}]}',
            "fx_rates.0.rate",
        ),
    ],
)
def test_a_decimal_string_out_of_bounds_is_caught_before_anything_is_sent(
    runner: CliRunner, fake: FakeXbm, config_dir: Path, tmp_path: Path, old: str, new: str, field: str
) -> None:
    assert old in SMALL
    path = tmp_path / "plan.yaml"
    path.write_text(SMALL.replace(old, new, 1))
    result = runner.invoke(app, ["--json", "plan", "import", "--dry-run", str(path)])
    assert result.exit_code == 2, result.stderr
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "usage"
    assert any(f": {field}: " in d or d.startswith(f"plan.{field}: ") for d in error["details"]), error
    assert "is not valid under any" not in str(error["details"])  # the bound is named, not the anyOf
    assert field in result.stderr and "nothing was sent" in result.stderr
    assert fake.writes() == []


def _models(package: str) -> dict[str, type[BaseModel]]:
    def every(cls: type[BaseModel]) -> Iterator[type[BaseModel]]:
        for sub in cls.__subclasses__():
            yield sub
            yield from every(sub)

    found: dict[str, type[BaseModel]] = {}
    for model in every(BaseModel):
        if model.__module__.startswith((f"services.{package}", "shared")):
            found.setdefault(model.__name__, model)
    return found


def _request_components(spec: dict[str, Any]) -> set[str]:
    """Every component a request body of ``spec`` uses, directly or inside another."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.split("/")[-1] not in names:
                names.add(ref.split("/")[-1])
                walk(spec["components"]["schemas"].get(ref.split("/")[-1]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for operations in spec["paths"].values():
        for operation in operations.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                walk(operation["requestBody"])
    return names


def _is_decimal(schema: Any) -> bool:
    text = json.dumps(schema)
    return '"type": "string"' in text and "-?[0-9]{1,24}" in text and '"$ref"' not in text


@pytest.mark.parametrize("service", ["plans", "compliance"])
def test_the_cli_and_the_service_agree_on_every_decimal_bound(specs: dict[str, Any], service: str) -> None:
    spec = specs[service]
    schemas, models = Schemas(spec), _models(service)
    compared, disagree = 0, []
    for component in sorted(_request_components(spec)):
        model = models.get(component.split("-")[0])
        properties = spec["components"]["schemas"][component].get("properties") or {}
        for name, schema in properties.items():
            if not _is_decimal(schema):
                continue
            assert model is not None and name in model.model_fields, (component, name)
            field = model.model_fields[name]
            adapter: TypeAdapter[Any] = TypeAdapter(Annotated[field.annotation, field])  # type: ignore[arg-type]
            for value in PROBES:
                try:
                    adapter.validate_json(json.dumps(value))
                    service_takes = True
                except ValidationError:
                    service_takes = False
                cli_takes = not schemas.errors_for(schema, value)
                compared += 1
                if cli_takes != service_takes:
                    disagree.append(f"{component}.{name} = {value!r}: service {service_takes}, CLI {cli_takes}")
    assert compared >= 5 * len(PROBES), compared
    assert not disagree, "\n".join(disagree)
