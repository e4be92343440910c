"""The README's reference tables match the code: settings, metrics, RPCs."""

from __future__ import annotations

import re

from prometheus_client.metrics import MetricWrapperBase

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_server.observability import metrics
from oneiros_server.settings import Settings
from tests.conftest import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text()


def test_every_setting_is_documented():
    missing = [
        name
        for name in Settings.model_fields
        if f"`--{name.replace('_', '-')}`" not in README or f"`ONEIROS_{name.upper()}`" not in README
    ]
    assert not missing, f"README's settings table lacks {missing}"


def test_every_metric_is_documented():
    names = {m.describe()[0].name for m in vars(metrics).values() if isinstance(m, MetricWrapperBase)}
    assert names
    shown = {n + "_total" if f"`{n}_total`" in README else n for n in names}
    missing = [n for n in shown if f"`{n}`" not in README]
    assert not missing, f"README's metrics table lacks {missing}"


def test_every_rpc_is_documented():
    rpcs = pb.DESCRIPTOR.services_by_name["Oneiros"].methods_by_name
    missing = [name for name in rpcs if f"`{name}`" not in README]
    assert not missing, missing


def test_every_linked_file_exists():
    root = REPO_ROOT
    for doc in [root / "README.md", *sorted((root / "docs").glob("*.md")), root / "clients/python/README.md"]:
        for target in re.findall(r"\]\(([^)#\s]+)\)", doc.read_text()):
            if "://" in target:
                continue
            assert (doc.parent / target).exists(), f"{doc.name} links to missing {target}"
