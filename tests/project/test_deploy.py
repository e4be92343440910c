"""Kubernetes manifests: valid against the API schemas and consistent with the server."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from oneiros_server.settings import Settings
from oneiros_server.transport.grpc.health import SERVICE
from tests.conftest import REPO_ROOT

K8S = REPO_ROOT / "deploy" / "k8s"
MANIFESTS = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def _load(name: str) -> dict:
    return yaml.safe_load((K8S / name).read_text())


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_manifest_validates_strictly(path: Path):
    docs = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    assert docs, f"{path.name} holds no manifest"
    for doc in docs:
        assert kubernetes_validate.validate(doc, "1.30.0", strict=True) == "1.30"  # raises on any invalid field


def test_kustomization_lists_every_manifest():
    assert sorted(_load("kustomization.yaml")["resources"]) == sorted(p.name for p in MANIFESTS)


def test_deployment_matches_the_server():
    pod = _load("deployment.yaml")["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    port = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert port["grpc"] == Settings.model_fields["port"].default
    assert port["http"] == Settings.model_fields["http_port"].default
    assert port["metrics"] == Settings.model_fields["metrics_port"].default
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["grpc"]["port"] == port["grpc"]
    assert container["readinessProbe"]["grpc"]["service"] == SERVICE
    # Every env var is a real setting.
    for name in env:
        assert name.removeprefix("ONEIROS_").lower() in Settings.model_fields, name
    drain = float(env["ONEIROS_GRACE_PERIOD_S"])
    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pod["terminationGracePeriodSeconds"] > drain + pre_stop
    assert pod["securityContext"]["runAsNonRoot"] is True


def test_headless_service_for_client_side_balancing():
    service = _load("service.yaml")
    assert service["spec"]["clusterIP"] == "None"
    deployment_labels = _load("deployment.yaml")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= deployment_labels.items()
