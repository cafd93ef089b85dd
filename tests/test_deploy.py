"""Deployment files are validated here, since no container engine runs on the build machines."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_SCHEMA = ROOT.parent / "shared" / "schemas" / "compose-spec.json"


def test_compose_file_follows_the_compose_specification() -> None:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    document = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    jsonschema.validate(document, schema)
    services = document["services"]
    for name in ("plans", "campaigns", "compliance"):
        assert services[name]["depends_on"][f"{name}-migrate"]["condition"] == "service_completed_successfully"
        assert "/readyz" in " ".join(services[name]["healthcheck"]["test"])
