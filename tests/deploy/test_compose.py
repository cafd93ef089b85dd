"""docker-compose.yml follows the Compose specification and wires XBM as the README's architecture says.

No container engine runs on the build machines, so the file is checked here rather than started.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.deploy.routes import SERVICES

ROOT = Path(__file__).resolve().parents[2]
#: the Compose Specification's JSON Schema, copied with its source (schemas/SOURCE.md)
COMPOSE_SCHEMA = Path(__file__).resolve().parent / "schemas" / "compose-spec.json"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_file_follows_the_compose_specification(compose: dict) -> None:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    jsonschema.validate(compose, schema)


def test_the_schema_check_refuses_a_broken_file(compose: dict) -> None:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    broken = {**compose, "services": {**compose["services"], "plans": {**compose["services"]["plans"], "ports": 8000}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_each_database_is_created_and_used_by_its_own_service(compose: dict) -> None:
    init = (ROOT / "deploy" / "postgres-init.sql").read_text()
    env = compose["services"]["plans"]["environment"]
    assert compose["services"]["postgres"]["environment"]["POSTGRES_DB"] == "plans"
    for name in SERVICES:
        assert env[f"XBM_{name.upper()}_DATABASE_URL"].endswith(f"@postgres:5432/{name}")
        if name != "plans":
            assert f"CREATE DATABASE {name};" in init


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_migrates_first_and_reports_ready(compose: dict, name: str) -> None:
    services = compose["services"]
    migrate = services[f"{name}-migrate"]
    assert migrate["command"] == ["python", "-m", f"services.{name}.migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    service = services[name]
    assert service["environment"]["SERVICE"] == name
    assert service["depends_on"][f"{name}-migrate"]["condition"] == "service_completed_successfully"
    assert "/readyz" in " ".join(service["healthcheck"]["test"])


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_has_a_relay_started_once_it_is_ready(compose: dict, name: str) -> None:
    relay = compose["services"][f"{name}-relay"]
    assert relay["command"] == ["python", "-m", f"services.{name}.relay"]
    assert relay["depends_on"][name]["condition"] == "service_healthy"
    # the relay has no HTTP server, so the services' /readyz check must not be inherited
    assert relay["healthcheck"] == {"disable": True}


def test_services_that_call_plans_wait_for_it(compose: dict) -> None:
    for name in ("campaigns", "compliance"):
        assert compose["services"][name]["depends_on"]["plans"]["condition"] == "service_healthy"


def test_the_gateway_serves_port_8000_with_the_repository_config(compose: dict) -> None:
    gateway = compose["services"]["gateway"]
    assert gateway["ports"] == ["8000:8000"]
    assert "./deploy/nginx/nginx.conf:/etc/nginx/nginx.conf:ro" in gateway["volumes"]
    for name in SERVICES:
        assert gateway["depends_on"][name]["condition"] == "service_healthy"
    config = (ROOT / "deploy" / "nginx" / "nginx.conf").read_text()
    for name in SERVICES:
        # the gateway's upstreams are the compose services, on the port the image listens on
        assert f"server {name}:8000;" in config


def test_secrets_come_from_the_environment_not_the_file(compose: dict) -> None:
    env = compose["services"]["plans"]["environment"]
    assert env["XBM_BOOTSTRAP_TOKEN"].startswith("${XBM_BOOTSTRAP_TOKEN:?")
    assert env["XBM_PLANS_SIGNING_KEY"].startswith("${XBM_PLANS_SIGNING_KEY:?")


def test_the_image_runs_as_a_non_root_user_with_dependencies_layered_first() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    lines = [line.strip() for line in dockerfile.splitlines()]
    assert lines[next(i for i, line in enumerate(lines) if line.startswith("FROM"))].endswith("-slim AS base")
    first_code_copy = lines.index("COPY services ./services")
    dependency_install = next(i for i, line in enumerate(lines) if "pip install ." in line)
    assert dependency_install < first_code_copy
    assert any(line.startswith("USER ") and line != "USER root" for line in lines)
    assert "services.${SERVICE}.app:create_app" in dockerfile


def test_the_services_trust_forwarded_addresses_from_the_gateway_alone_and_share_attempt_counts(compose: dict) -> None:
    gateway_address = compose["services"]["gateway"]["networks"]["default"]["ipv4_address"]
    for name in SERVICES:
        env = compose["services"][name]["environment"]
        assert env["FORWARDED_ALLOW_IPS"] == gateway_address
        assert env["XBM_RATE_LIMIT_URL"].startswith("redis://redis:")
    assert compose["services"]["plans"]["depends_on"]["redis"]["condition"] == "service_healthy"
    config = (ROOT / "deploy" / "nginx" / "nginx.conf").read_text()
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in config
    assert "--forwarded-allow-ips" in (ROOT / "deploy" / "Dockerfile").read_text()
