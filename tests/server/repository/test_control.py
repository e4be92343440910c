"""The repository while serving, with fake engines (no ONNX): poll, explicit loads, swaps, drains, bad folders."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from oneiros_server.errors import ModelNotFound, ModelUnavailable, NotLoaded
from oneiros_server.repository import ModelRepository
from oneiros_server.repository.manifest import Manifest, file_ref, write_manifest
from oneiros_server.settings import Settings
from tests.waiting import wait_until


class FakeEngine:
    def __init__(self, path: Path, fail: bool):
        self.path, self.closed = path, False
        self.weights = (path / "w.bin").read_bytes()
        if fail:
            raise RuntimeError("this model does not load")

    def warmup(self) -> None:
        time.sleep(0.01)

    def close(self) -> None:
        self.closed = True


class FakeLoader:
    """Counts loads; a model whose weights start with b"bad" fails; ``gate`` holds loads until set."""

    def __init__(self):
        self.loads: list[tuple[str, str]] = []
        self.gate = threading.Event()
        self.gate.set()

    def families(self, kind: str) -> tuple[str, ...]:
        return ("Decode", "EditLatent")

    def load(self, manifest: Manifest, version_dir: Path, settings: Settings) -> FakeEngine:
        assert self.gate.wait(10)
        self.loads.append((manifest.name, manifest.version))
        return FakeEngine(version_dir, fail=(version_dir / "w.bin").read_bytes().startswith(b"bad"))


def write_model(root: Path, name: str, version: str = "1", weights: bytes = b"w", default: bool = False) -> Path:
    folder = root / name / version
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "w.bin").write_bytes(weights)
    files = {"decoder": file_ref(folder, "w.bin")}
    default_for = ["Decode"] if default else []
    manifest = Manifest(  # a kind of its own: no spec to meet, no ONNX graph to check (the engines are fakes)
        name=name, version=version, kind="FAKE_DECODER", runtime="fake", files=files, default_for=default_for
    )
    write_manifest(folder, manifest)
    return folder


@pytest.fixture
def repo(tmp_path):
    repository = ModelRepository(Settings(model_repository=tmp_path, grace_period_s=5), FakeLoader())
    yield repository
    repository.close()


def states(repo: ModelRepository) -> dict[tuple[str, str], str]:
    return {(m.name, m.version): m.state for m in repo.index()}


def test_poll_loads_new_models_and_versions_and_unloads_removed_ones(repo, tmp_path):
    write_model(tmp_path, "a")
    repo.poll()
    assert states(repo) == {("a", "1"): "READY"}
    write_model(tmp_path, "a", "2")
    write_model(tmp_path, "b")
    repo.poll()
    assert states(repo) == {("a", "1"): "READY", ("a", "2"): "READY", ("b", "1"): "READY"}
    assert repo.resolve("a", "Decode").version == "2"  # the newest READY version answers
    assert repo.resolve("a", "Decode", version="1").version == "1"
    old = repo.find("b")
    for path in sorted((tmp_path / "b").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    (tmp_path / "b").rmdir()
    repo.poll()
    assert ("b", "1") not in states(repo)
    assert wait_until(lambda: old.engine_set is None and old.state == "UNLOADED", 5)
    with pytest.raises(ModelNotFound):
        repo.resolve("b", "Decode")


def test_an_unchanged_folder_is_never_reloaded(repo, tmp_path):
    write_model(tmp_path, "a")
    for _ in range(3):
        repo.poll()
    assert repo.loader.loads == [("a", "1")]


def test_a_changed_file_swaps_in_a_fresh_copy_after_the_old_one_drains(repo, tmp_path):
    write_model(tmp_path, "a", weights=b"first")
    repo.poll()
    old = repo.resolve("a", "Decode")
    assert old.acquire()  # a call in flight on the old copy
    write_model(tmp_path, "a", weights=b"second")
    repo.poll()
    new = repo.resolve("a", "Decode")
    assert new is not old and new.engine_set.weights == b"second"  # new calls reach the new copy at once
    time.sleep(0.05)
    assert old.state == "UNLOADING" and not old.engine_set.closed  # the call in flight still has its engine
    engine = old.engine_set
    old.release()
    assert wait_until(lambda: engine.closed and old.state == "UNLOADED", 5)


def test_a_new_copy_that_fails_never_replaces_the_one_serving(repo, tmp_path):
    write_model(tmp_path, "a", weights=b"good")
    repo.poll()
    serving = repo.resolve("a", "Decode")
    write_model(tmp_path, "a", weights=b"bad weights")
    repo.poll()
    assert repo.resolve("a", "Decode") is serving and serving.engine_set.weights == b"good"
    assert "failed to load: RuntimeError" in serving.reason


def test_a_half_copied_folder_waits_until_its_files_match(repo, tmp_path):
    folder = write_model(tmp_path, "a", weights=b"complete weights")
    (folder / "w.bin").write_bytes(b"comp")  # still being copied
    repo.poll()
    assert states(repo) == {("a", "1"): "UNAVAILABLE"}
    assert "does not match its sha256" in repo.find("a").reason
    assert repo.loader.loads == []  # nothing loaded garbage
    (folder / "w.bin").write_bytes(b"complete weights")
    repo.poll()
    assert states(repo) == {("a", "1"): "READY"} and repo.loader.loads == [("a", "1")]


def test_a_corrupt_model_beside_good_ones(repo, tmp_path):
    write_model(tmp_path, "good")
    broken = write_model(tmp_path, "broken")
    (broken / "model.json").write_text(json.dumps({"name": "broken", "unknown_field": 1}))
    repo.poll()
    assert states(repo) == {("broken", "1"): "UNAVAILABLE", ("good", "1"): "READY"}
    with pytest.raises(ModelUnavailable, match="model.json is invalid"):
        repo.resolve("broken", "Decode")


def test_an_operator_unload_sticks_until_the_folder_changes(repo, tmp_path):
    write_model(tmp_path, "a")
    repo.poll()
    repo.unload("a")
    repo.poll()
    assert states(repo) == {("a", "1"): "UNLOADED"}
    write_model(tmp_path, "a", weights=b"changed")
    repo.poll()
    assert states(repo) == {("a", "1"): "READY"}


def test_explicit_loads_and_unloads(repo, tmp_path):
    write_model(tmp_path, "a", "1")
    write_model(tmp_path, "a", "2")
    assert [m.version for m in repo.load("a", "2")] == ["2"]
    assert states(repo) == {("a", "1"): "UNLOADED", ("a", "2"): "READY"}
    repo.load("a")  # every version on disk
    assert states(repo) == {("a", "1"): "READY", ("a", "2"): "READY"}
    repo.unload("a", "2")
    assert repo.resolve("a", "Decode").version == "1"
    with pytest.raises(ModelNotFound, match="not in the repository folder"):
        repo.load("nope")
    with pytest.raises(ModelNotFound, match="not loaded"):
        repo.unload("a", "2")


def test_loads_of_one_model_are_serialised(repo, tmp_path):
    write_model(tmp_path, "a")
    repo.loader.gate.clear()
    threads = [threading.Thread(target=repo.load, args=("a",)) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.05)
    repo.loader.gate.set()
    for t in threads:
        t.join(10)
    assert repo.loader.loads == [("a", "1")]  # the first load made it READY; the others found it unchanged


def test_without_its_default_an_rpc_fails_with_a_clear_precondition(repo, tmp_path):
    write_model(tmp_path, "main", default=True)
    write_model(tmp_path, "other")
    repo.poll()
    assert repo.default_for("Decode").name == "main"
    repo.unload("main")
    with pytest.raises(NotLoaded, match="no model is loaded for Decode"):
        repo.default_for("Decode")
    repo.load("main")
    assert repo.default_for("Decode").name == "main"


def test_a_load_running_when_the_server_drains_is_abandoned(repo, tmp_path):
    write_model(tmp_path, "a")
    repo.loader.gate.clear()
    loading = threading.Thread(target=repo.poll)
    loading.start()
    assert wait_until(lambda: states(repo).get(("a", "1")) == "LOADING", 5)
    repo.closing.set()
    repo.loader.gate.set()
    loading.join(10)
    assert repo.find("a").engine_set is None and not repo.find("a").ready
