"""The Dockerfile: lint clean, and it ships everything `make serve` needs."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO_ROOT

REPO = REPO_ROOT
DOCKERFILES = [REPO / "Dockerfile", *sorted((REPO / "deploy").glob("**/Dockerfile*"))]


def _copied(dockerfile: Path) -> set[str]:
    sources: set[str] = set()
    for line in dockerfile.read_text().splitlines():
        match = re.match(r"^COPY\s+(?!--from)(.+)$", line.strip())
        if match:
            sources.update(part.rstrip("/") for part in match.group(1).split()[:-1] if not part.startswith("--"))
    return sources


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_hadolint_is_clean(dockerfile: Path):
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    out = subprocess.run([hadolint, "--failure-threshold", "warning", str(dockerfile)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_image_contains_what_serve_needs(dockerfile: Path):
    copied = _copied(dockerfile)
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    package_dirs = {folder.split("/")[0] for folder in project["tool"]["setuptools"]["package-dir"].values()}
    needed = package_dirs | {"pyproject.toml", "VERSION", "proto", "clients/python", project["project"]["readme"]}
    assert needed <= copied, f"{dockerfile.name} does not copy {sorted(needed - copied)}"
    ignored = {line.strip().rstrip("/") for line in (REPO / ".dockerignore").read_text().splitlines()}
    assert not (needed & ignored), f".dockerignore hides {sorted(needed & ignored)}"
    text = dockerfile.read_text()
    assert "USER" in text and "USER root" not in text, "the server must run as a non-root user"
    assert "oneiros_server.transport.grpc.healthcheck" in text and "HEALTHCHECK" in text
    assert 'CMD ["oneiros-server"]' in text, "the image runs the installed console script"
    assert "0.0.0.0" in text and "50051" in text


def test_healthcheck_command_reports_serving(serve, tmp_path, capsys):
    from oneiros_server.transport.grpc.healthcheck import main

    running = serve(tmp_path)
    assert main([running.target]) == 0
    assert capsys.readouterr().out.strip() == "SERVING"
    running.server.health.enter_graceful_shutdown()
    assert main([running.target]) == 1


def test_image_test_runs_the_image_as_the_deployment_does():
    """`make image-test` uses the Deployment's security context and ports, so passing it means something."""
    spec = importlib.util.spec_from_file_location("image_test", REPO / "deploy" / "image_test.py")
    image_test = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(image_test)
    pod = yaml.safe_load((REPO / "deploy" / "k8s" / "deployment.yaml").read_text())["spec"]["template"]["spec"]
    container = pod["containers"][0]
    context = container["securityContext"]
    flags = " ".join(image_test.SECURITY)
    assert context["readOnlyRootFilesystem"] is True and "--read-only" in flags
    assert context["capabilities"]["drop"] == ["ALL"] and "--cap-drop ALL" in flags
    assert context["allowPrivilegeEscalation"] is False and "no-new-privileges" in flags
    assert f"--user {pod['securityContext']['runAsUser']}" in flags
    assert [m["mountPath"] for m in container["volumeMounts"]] == ["/tmp"] and "--tmpfs /tmp" in flags
    assert image_test.PORTS == {p["name"]: p["containerPort"] for p in container["ports"]}
