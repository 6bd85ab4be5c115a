"""``manage.py safeface_models`` and the model catalog behind it: the status table, the active
engines, and pull's verification and file placement (on local fake files, never the network)."""

import hashlib
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from worker import models_catalog
from worker.models_catalog import Engine, ModelFile, ModelFileError

PAYLOAD = b"not really a model, but bytes with a known hash\n"
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


def run(*args) -> str:
    out = StringIO()
    call_command("safeface_models", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    root = tmp_path / "models"
    root.mkdir()
    monkeypatch.setenv("SAFEFACE_MODELS_DIR", str(root))
    return root


class FakeHub:
    """Serves local bytes in place of the Hub, recording what was asked."""

    def __init__(self, payload: bytes = PAYLOAD):
        self.payload = payload
        self.asked: list[tuple[str, str, str]] = []

    def download(self, repo: str, filename: str, revision: str, folder: Path) -> Path:
        self.asked.append((repo, filename, revision))
        path = folder / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.payload)
        return path


def fake_engine(sha256=PAYLOAD_SHA, size=None) -> Engine:
    return Engine("fake", "swap", "MIT", True, repo="someone/fake", revision="abc123",
                  files=(ModelFile("fake/weights.onnx", "models/weights.onnx", sha256, size),))


def test_status_lists_every_engine_with_licence_and_the_commercial_note(models_dir):
    out = run("status")
    for engine in models_catalog.ENGINES:
        assert engine.name in out
    assert "non-commercial research only" in out and "Apache-2.0" in out
    assert "Commercial use: only Mobius (generation) with the landmark swapper" in out
    assert f"Models folder (SAFEFACE_MODELS_DIR): {models_dir}" in out
    inswapper_row = next(line for line in out.splitlines() if line.startswith("inswapper_128"))
    assert " no " in inswapper_row and str(models_dir / "inswapper_128.onnx") in inswapper_row


def test_status_shows_the_best_installed_engines(models_dir):
    pytest.importorskip("onnx")
    from tests.worker.tiny_models import save_tiny_arcface, save_tiny_inswapper

    before = run("status")
    assert "Active for swapping: landmark (best installed)" in before
    assert "Active for generation: mobius" not in before  # no weights, no GPU here
    save_tiny_inswapper(models_dir / "inswapper_128.onnx")
    save_tiny_arcface(models_dir / "buffalo_l" / "w600k_r50.onnx")
    after = run("status")
    assert "Active for swapping: inswapper (best installed)" in after
    inswapper_row = next(line for line in after.splitlines() if line.startswith("inswapper_128"))
    assert " yes " in inswapper_row


def test_status_shows_a_configured_engine_and_whether_it_is_installed(models_dir, settings):
    settings.SAFEFACE_SWAP_ENGINE = "inswapper"
    settings.SAFEFACE_GENERATE_ENGINE = "mobius"
    out = run("status")
    assert "Active for swapping: inswapper (configured; NOT installed)" in out
    assert "Active for generation: mobius (configured; NOT installed)" in out


def test_pull_places_a_verified_file_at_its_path(tmp_path):
    hub = FakeHub()
    lines = []
    placed = models_catalog.pull(["fake"], lines.append, root=tmp_path, download=hub.download,
                                 engines=[fake_engine(size=len(PAYLOAD))])
    assert placed == [tmp_path / "fake" / "weights.onnx"]
    assert placed[0].read_bytes() == PAYLOAD
    assert hub.asked == [("someone/fake", "models/weights.onnx", "abc123")]
    assert not list(tmp_path.glob(".pull-*"))  # the staging folder is gone
    assert any("verified (sha256)" in line for line in lines)


def test_pull_skips_what_is_present(tmp_path):
    hub = FakeHub()
    engine = fake_engine()
    models_catalog.pull(["fake"], root=tmp_path, download=hub.download, engines=[engine])
    lines = []
    models_catalog.pull(["fake"], lines.append, root=tmp_path, download=hub.download,
                        engines=[engine])
    assert len(hub.asked) == 1 and "present" in lines[0]


@pytest.mark.parametrize("engine", [fake_engine(sha256="0" * 64), fake_engine(size=3)])
def test_pull_refuses_a_file_that_fails_its_check_and_places_nothing(tmp_path, engine):
    with pytest.raises(ModelFileError):
        models_catalog.pull(["fake"], root=tmp_path, download=FakeHub().download,
                            engines=[engine])
    assert not (tmp_path / "fake" / "weights.onnx").exists()
    assert not list(tmp_path.rglob("weights.onnx"))


def test_pull_of_a_diffusers_folder_checks_the_files_it_needs(tmp_path):
    engine = Engine("folder", "generate", "MIT", True, repo="someone/pipe", revision="def456",
                    files=(ModelFile("pipe/model_index.json"),), snapshot=("*.json",),
                    folder="pipe")

    def snapshot(repo, revision, patterns, folder):
        folder.mkdir(parents=True)
        (folder / "model_index.json").write_text("{}")

    placed = models_catalog.pull(["folder"], root=tmp_path, snapshot=snapshot, engines=[engine])
    assert placed == [tmp_path / "pipe" / "model_index.json"]
    with pytest.raises(ModelFileError, match="lacks"):
        models_catalog.pull(["folder"], root=tmp_path / "other",
                            snapshot=lambda *args: None, engines=[engine])


def test_every_downloadable_engine_pins_a_repository_and_revision():
    for engine in models_catalog.ENGINES:
        assert engine.package or (engine.repo and engine.revision and engine.files), engine.name
        for file in engine.files:
            assert file.sha256 is None or len(file.sha256) == 64


def test_pull_command_rejects_unknown_names(models_dir):
    with pytest.raises(CommandError, match="unknown engine"):
        run("pull", "no-such-engine")


def test_pull_command_says_package_engines_need_no_download(models_dir):
    out = run("pull", "mediapipe", "stylegan-offline")
    assert "ships in the pip package mediapipe" in out
    assert "Done: 0 file(s) placed." in out
