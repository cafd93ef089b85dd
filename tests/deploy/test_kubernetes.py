"""deploy/k8s: every manifest is valid Kubernetes, and the set is complete enough to run XBM."""

from __future__ import annotations

import re
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from tests.deploy.routes import ROUTES, SERVICES, UNROUTED

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
# the oldest Kubernetes still commonly run, and the newest the validator knows
VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
MANIFESTS = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def _documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


@pytest.fixture(scope="module")
def resources() -> list[dict]:
    return [doc for path in MANIFESTS for doc in _documents(path)]


def _of_kind(resources: list[dict], kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in resources if doc["kind"] == kind}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_every_manifest_is_valid_kubernetes(path: Path, version: str) -> None:
    for doc in _documents(path):
        kubernetes_validate.validate(doc, version, strict=True)


def test_the_validator_refuses_a_broken_manifest(resources: list[dict]) -> None:
    deployment = _of_kind(resources, "Deployment")["plans"]
    broken = {**deployment, "spec": {**deployment["spec"], "replicas": "two"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[0], strict=True)


def test_kustomization_lists_every_manifest_and_nothing_else() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert kustomization["kind"] == "Kustomization"
    assert sorted(kustomization["resources"]) == sorted(p.name for p in MANIFESTS)


def _containers(doc: dict) -> list[dict]:
    return doc["spec"]["template"]["spec"]["containers"]


def test_every_deployment_has_probes_resources_and_runs_as_non_root(resources: list[dict]) -> None:
    deployments = _of_kind(resources, "Deployment")
    assert set(deployments) == {*SERVICES, *(f"{name}-relay" for name in SERVICES), "redis"}
    for name, doc in deployments.items():
        pod = doc["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] != 0, name
        for container in _containers(doc):
            assert container["readinessProbe"] and container["livenessProbe"], name
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), name
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
        selector = doc["spec"]["selector"]["matchLabels"]
        assert selector.items() <= doc["spec"]["template"]["metadata"]["labels"].items(), name


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_is_probed_on_readyz_and_healthz(resources: list[dict], name: str) -> None:
    (container,) = _containers(_of_kind(resources, "Deployment")[name])
    assert container["env"][0] == {"name": "SERVICE", "value": name}
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["port"] == "http"
    assert {"name": "http", "containerPort": 8000} in container["ports"]


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_has_a_relay_and_a_migration_job(resources: list[dict], name: str) -> None:
    (relay,) = _containers(_of_kind(resources, "Deployment")[f"{name}-relay"])
    assert relay["command"] == ["python", "-m", f"services.{name}.relay"]
    job = _of_kind(resources, "Job")[f"{name}-migrate"]
    (migrate,) = job["spec"]["template"]["spec"]["containers"]
    assert migrate["command"] == ["python", "-m", f"services.{name}.migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] in ("OnFailure", "Never")
    assert "resources" in migrate


def test_each_service_has_a_service_and_an_autoscaler_aimed_at_a_real_deployment(resources: list[dict]) -> None:
    deployments = _of_kind(resources, "Deployment")
    services = _of_kind(resources, "Service")
    autoscalers = _of_kind(resources, "HorizontalPodAutoscaler")
    assert set(services) == {*SERVICES, "redis"}
    assert set(autoscalers) == set(SERVICES)
    for doc in autoscalers.values():
        target = doc["spec"]["scaleTargetRef"]
        assert target["kind"] == "Deployment" and target["name"] in deployments
        assert doc["spec"]["minReplicas"] <= doc["spec"]["maxReplicas"]
    for name, service in services.items():
        pod_labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= pod_labels.items()


def test_the_config_map_points_each_service_at_the_others(resources: list[dict]) -> None:
    data = _of_kind(resources, "ConfigMap")["xbm-config"]["data"]
    assert data["XBM_ENVIRONMENT"] == "production"
    for name in SERVICES:
        assert data[f"XBM_{name.upper()}_URL"] == f"http://{name}:8000"
    # browsers' origins are the services' to allow (one policy): the Ingress must not add CORS headers of its own
    assert "XBM_CORS_ORIGINS" in data
    for ingress in _of_kind(resources, "Ingress").values():
        annotations = ingress["metadata"].get("annotations", {})
        assert annotations.get("nginx.ingress.kubernetes.io/enable-cors", "false") == "false"


def test_secrets_are_referenced_never_committed(resources: list[dict]) -> None:
    assert not _of_kind(resources, "Secret")
    needed: dict[str, set[str]] = {}
    for doc in [*_of_kind(resources, "Deployment").values(), *_of_kind(resources, "Job").values()]:
        for container in _containers(doc):
            for var in container.get("env", []):
                if "valueFrom" in var:
                    ref = var["valueFrom"]["secretKeyRef"]
                    needed.setdefault(ref["name"], set()).add(ref["key"])
                assert "DATABASE_URL" not in var["name"] or "valueFrom" in var, var
    assert needed == {
        "xbm-secrets": {
            "bootstrap-token",
            "service-secret",
            "plans-signing-key",
            "plans-database-url",
            "campaigns-database-url",
            "compliance-database-url",
        }
    }


def _ingress_route(resources: list[dict], path: str) -> tuple[str, str] | None:
    """Route ``path`` as ingress-nginx does with use-regex: every path is a case-insensitive regex anchored at
    the start, tried longest first; rewrite-target substitutes the groups of the match."""
    candidates = []
    for ingress in _of_kind(resources, "Ingress").values():
        rewrite = ingress["metadata"].get("annotations", {}).get("nginx.ingress.kubernetes.io/rewrite-target")
        for rule in ingress["spec"]["rules"]:
            for entry in rule["http"]["paths"]:
                candidates.append((entry["path"], entry["backend"]["service"]["name"], rewrite))
    candidates.sort(key=lambda c: len(c[0]), reverse=True)
    uri, _, query = path.partition("?")
    for pattern, service, rewrite in candidates:
        match = re.match(pattern, uri, re.IGNORECASE)
        if match:
            seen = match.expand(rewrite.replace("$", "\\")) if rewrite else uri
            return service, seen + (f"?{query}" if query else "")
    return None


@pytest.mark.parametrize(("path", "service", "seen"), ROUTES)
def test_the_ingress_routes_like_the_gateway(resources: list[dict], path: str, service: str, seen: str) -> None:
    assert _ingress_route(resources, path) == (service, seen)


@pytest.mark.parametrize("path", UNROUTED)
def test_the_ingress_does_not_expose_unrouted_paths(resources: list[dict], path: str) -> None:
    assert _ingress_route(resources, path) is None


def test_every_ingress_backend_is_a_service_port(resources: list[dict]) -> None:
    services = _of_kind(resources, "Service")
    for ingress in _of_kind(resources, "Ingress").values():
        for rule in ingress["spec"]["rules"]:
            for entry in rule["http"]["paths"]:
                backend = entry["backend"]["service"]
                ports = {p["name"] for p in services[backend["name"]]["spec"]["ports"]}
                assert backend["port"]["name"] in ports
