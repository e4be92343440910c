"""Kubernetes manifests: valid against the API schemas and consistent with the server."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from cloudcoil.models.keda.v1alpha1 import ScaledObject

from oneiros_server.observability import metrics
from oneiros_server.settings import Settings
from oneiros_server.transport.grpc.health import SERVICE
from tests.conftest import REPO_ROOT

K8S = REPO_ROOT / "deploy" / "k8s"
KEDA = REPO_ROOT / "deploy" / "keda"
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


def _kustomize(folder: Path) -> list[dict]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    out = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True, check=True)
    return list(yaml.safe_load_all(out.stdout))


@pytest.mark.parametrize("folder", [K8S, KEDA], ids=["k8s", "keda"])
def test_kustomize_output_validates(folder: Path):
    """What `kubectl apply -k` sends: the Kubernetes kinds strictly, KEDA's against its CRD models."""
    for doc in _kustomize(folder):
        if doc["apiVersion"].startswith("keda.sh/"):
            _validate_scaled_object(doc)
        else:
            kubernetes_validate.validate(doc, "1.30.0", strict=True)


def _validate_scaled_object(doc: dict) -> None:
    # cloudcoil's models are generated from KEDA's CRD; a field the CRD lacks would be dropped.
    model = ScaledObject.model_validate(doc)
    assert model.model_dump(by_alias=True, exclude_none=True, mode="json") == doc


def test_keda_overlay_replaces_the_hpa_and_scales_on_queue_depth():
    docs = {doc["kind"]: doc for doc in _kustomize(KEDA)}
    assert "HorizontalPodAutoscaler" not in docs, "KEDA owns the HPA; a second one would fight it"
    scaled = docs["ScaledObject"]["spec"]
    target = scaled["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", docs["Deployment"]["metadata"]["name"])
    queries = [t["metadata"]["query"] for t in scaled["triggers"] if t["type"] == "prometheus"]
    exported = {family.name: family.type for family in metrics.REGISTRY.collect()}
    for name in ("oneiros_queue_depth", "oneiros_requests_in_flight"):
        assert any(name in query for query in queries), f"no trigger on {name}"
        assert exported[name] == "gauge", f"{name} is not a gauge the server exports"
    for trigger in scaled["triggers"]:
        threshold = trigger["metadata"].get("threshold")
        assert threshold is None or float(threshold) > 0
    hpa = _load("hpa.yaml")["spec"]
    assert (scaled["minReplicaCount"], scaled["maxReplicaCount"]) == (hpa["minReplicas"], hpa["maxReplicas"])
