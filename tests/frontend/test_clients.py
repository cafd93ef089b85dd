"""The clients in clients/ are generated from the code and work: regenerating them changes nothing (so a route
or schema changed without regenerating fails here), and the Python client drives the running services."""

from __future__ import annotations

import importlib.util
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.support import BOOTSTRAP_TOKEN
from tests.system.procs import ROOT, stack_on_new_databases

CLIENTS = ROOT / "clients"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("xbm_clients_generate", CLIENTS / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def drift(files: dict[Path, str]) -> list[str]:
    return [
        str(rel) for rel, text in files.items() if not (CLIENTS / rel).exists() or (CLIENTS / rel).read_text() != text
    ]


def test_openapi_documents_and_python_client_match_the_code() -> None:
    files = generator().generated(with_typescript=False)
    assert {p.parts[0] for p in files} == {"openapi", "python"}
    assert drift(files) == [], "run .venv/bin/python clients/generate.py and commit the result"


@pytest.mark.skipif(
    shutil.which("npm") is None, reason="npm is not installed: the TypeScript types cannot be regenerated"
)
def test_typescript_types_match_the_code_and_compile(tmp_path: Path) -> None:
    files = generator().generated(with_typescript=True)
    ts = {p: t for p, t in files.items() if p.parts[0] == "typescript"}
    assert len(ts) == 3
    assert drift(ts) == [], "run .venv/bin/python clients/generate.py and commit the result"
    # the committed types type-check, and a frontend's use of them does too
    for name in ("package.json", "package-lock.json"):
        shutil.copy(CLIENTS / "typescript" / name, tmp_path / name)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=tmp_path, check=True)
    shutil.copytree(CLIENTS / "typescript" / "src", tmp_path / "src")
    (tmp_path / "use.ts").write_text(
        'import type { Plans, Compliance } from "./src/index";\n'
        'type Plan = Plans.components["schemas"]["PlanOut"];\n'
        'type Query = NonNullable<Compliance.operations["list_orders"]["parameters"]["query"]>;\n'
        'const plan: Pick<Plan, "name" | "status"> = { name: "Spring", status: "draft" };\n'
        'const query: Query = { state: "mismatch", trade_direction: "import" };\n'
        "// @ts-expect-error: not a state an order can be in\n"
        'const bad: Query = { state: "bogus" };\n'
        "export { plan, query, bad };\n"
    )
    tsc = tmp_path / "node_modules" / ".bin" / "tsc"
    result = subprocess.run(
        [str(tsc), "--noEmit", "--strict", "--target", "es2022", "--moduleResolution", "bundler", "--module",
         "esnext", "use.ts"],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.system
@pytest.mark.db
async def test_the_generated_python_client_works_against_the_running_services(tmp_path: Path, databases) -> None:  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(CLIENTS / "python"))
    try:
        import xbm_client
    finally:
        sys.path.remove(str(CLIENTS / "python"))
    stack = await stack_on_new_databases(
        databases, tmp_path / "data", "cli", extra_env={"XBM_BOOTSTRAP_TOKEN": BOOTSTRAP_TOKEN}
    )
    try:
        stack.wait_up()
        with xbm_client.PlansClient(stack.urls["plans"]) as anonymous:
            created = anonymous.create_org({"name": "Scripted Co"}, x_bootstrap_token=BOOTSTRAP_TOKEN)
        assert created["key"] == created["admin_api_key"]  # the new name and its deprecated alias
        token = xbm_client.sign_in(stack.urls["plans"], created["key"])
        with xbm_client.PlansClient(stack.urls["plans"], token) as plans:
            body = {"name": "Scripted plan", "period_start": "2027-01-01", "period_end": "2027-12-31",
                    "base_currency": "USD", "trade_direction": "export"}  # fmt: skip
            plan = plans.create_plan(body, idempotency_key="script-plan-1")
            again = plans.create_plan(body, idempotency_key="script-plan-1")
            assert again["id"] == plan["id"]
            assert plans.get_plan(plan["id"])["name"] == "Scripted plan"
            assert [p["id"] for p in plans.list_plans(name="scripted", status="draft")["items"]] == [plan["id"]]
            assert plans.list_plans(name="nothing like it")["items"] == []
            with pytest.raises(xbm_client.XbmError) as missing:
                plans.get_plan("00000000-0000-4000-8000-000000000000")
            assert missing.value.status == 404 and missing.value.problem["status"] == 404
            with pytest.raises(xbm_client.XbmError) as refused:
                plans.create_plan({**body, "period_end": "2026-01-01"})
            assert refused.value.status == 422 and refused.value.problem["errors"]
        with xbm_client.CampaignsClient(stack.urls["campaigns"], token) as campaigns:
            kinds = campaigns.list_kinds(limit=2)
            assert [k["key"] for k in kinds["items"]] == ["visual", "sem"] and kinds["next_cursor"]
            assert campaigns.list_campaigns(status="running")["items"] == []
        with xbm_client.ComplianceClient(stack.urls["compliance"], token) as compliance:
            assert compliance.list_orders(state="mismatch", trade_direction="import")["items"] == []
            with pytest.raises(xbm_client.XbmError) as bad:
                compliance.list_orders(state="bogus")  # type: ignore[arg-type]
            assert bad.value.status == 422
        with xbm_client.ComplianceClient(stack.urls["compliance"]) as no_token:
            with pytest.raises(xbm_client.XbmError) as unauthorised:
                no_token.list_orders()
            assert unauthorised.value.status == 401
    finally:
        code = stack.stop(signal.SIGTERM)
    assert code == 0, stack.output()
