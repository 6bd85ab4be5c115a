"""The Mobius engine's own loading and sampling code, run on a tiny random-weight SDXL pipeline
saved where the real weights go (FACTS.md: "Production engines without downloading weights")."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from worker.config import MobiusSettings
from worker.errors import Cancelled, GenerationFailed
from worker.types import Face, Pose

pytest.importorskip("diffusers")
pytest.importorskip("transformers")

from worker.generate.mobius import MobiusGenerator

TINY = MobiusSettings(size=64, steps=2, max_tries=3)
KEYPOINTS = np.array([[22, 26], [42, 26], [32, 36], [24, 46], [40, 46]], np.float32)


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    from tests.worker.tiny_models import save_tiny_sdxl

    root = tmp_path_factory.mktemp("models")
    save_tiny_sdxl(root)
    return root


class FakeGate:
    """Accepts every image after rejecting the first ``reject`` ones, recording what it saw."""

    def __init__(self, reject: int = 0):
        self.reject = reject
        self.seen: list[np.ndarray] = []

    def __call__(self, image):
        self.seen.append(image)
        if len(self.seen) <= self.reject:
            raise GenerationFailed("rejected by the fake gate")
        return Face(box=(16, 16, 48, 52), score=1.0, keypoints=KEYPOINTS, landmarks=None,
                    pose=Pose(0, 0, 0))


def make(models_dir, gate=None, settings=TINY):
    return MobiusGenerator(settings=settings, gate=gate or FakeGate(), models_dir=models_dir,
                           device="cpu")


@pytest.fixture(scope="module")
def generator(models_dir):
    return make(models_dir)


def test_same_seed_same_pixels_and_different_seeds_differ(generator):
    first = generator.generate({}, seed=11)[0]
    again = generator.generate({}, seed=11)[0]
    other = generator.generate({}, seed=12)[0]
    assert first.image.shape == (64, 64, 3) and first.image.dtype == np.uint8
    assert np.array_equal(first.image, again.image)
    assert np.abs(first.image.astype(int) - other.image.astype(int)).mean() > 5


def test_n_candidates_with_distinct_seeds_prompt_and_crop(generator):
    faces = generator.generate({"gender": "feminine", "age": "30-44"}, seed=100, n=3)
    assert [face.seed for face in faces] == [100, 101, 102]
    assert len({face.image.tobytes() for face in faces}) == 3
    for face in faces:
        assert face.backend == "mobius" and face.version.startswith("mobius@")
        assert "adult woman" in face.prompt and "in their late thirties" in face.prompt
        assert face.face_crop.shape == (256, 256, 3)
        assert face.attributes["gender"].asked == "feminine"
        assert face.attributes["gender"].measured is None and face.attributes["gender"].honoured


def test_progress_counts_every_denoising_step_across_candidates(generator):
    calls = []
    generator.generate({}, seed=5, n=2, progress=lambda done, total: calls.append((done, total)))
    # KDPM2 Ancestral is 2nd order: 2 steps are 3 denoising calls back for the callback.
    assert calls == [(1, 6), (2, 6), (3, 6), (4, 6), (5, 6), (6, 6)]


def test_cancel_stops_between_steps(generator):
    calls = []
    with pytest.raises(Cancelled):
        generator.generate({}, seed=5, n=2,
                           progress=lambda done, total: calls.append(done),
                           cancelled=lambda: len(calls) >= 2)
    assert calls == [1, 2]


def test_gate_rejections_are_resampled_with_new_seeds(models_dir):
    gate = FakeGate(reject=2)
    calls = []
    faces = make(models_dir, gate).generate(
        {}, seed=40, n=2, progress=lambda done, total: calls.append((done, total)))
    # candidate 0: seeds 40 and 42 rejected, 44 kept; candidate 1: seed 41 kept.
    assert [face.seed for face in faces] == [44, 41]
    assert len(gate.seen) == 4
    assert calls[-1] == (12, 12)
    assert np.array_equal(faces[0].image, gate.seen[2])


def test_gate_failure_is_clear_after_the_bound(models_dir):
    gate = FakeGate(reject=99)
    with pytest.raises(GenerationFailed, match="3 tries"):
        make(models_dir, gate).generate({}, seed=1)
    assert len(gate.seen) == 3


def test_pipeline_loads_lazily_once(models_dir):
    generator = make(models_dir)
    assert not generator.loaded
    generator.generate({}, seed=1)
    pipe = generator.pipeline()
    generator.generate({}, seed=2)
    assert generator.pipeline() is pipe
    assert type(pipe.scheduler).__name__ == "KDPM2AncestralDiscreteScheduler"
    assert pipe.vae.config.block_out_channels == [32, 64]


def test_fast_sampler_needs_one_unet_call_a_step(models_dir):
    settings = MobiusSettings(size=64, steps=2, sampler="dpmpp-2m-karras")
    calls = []
    generator = make(models_dir, settings=settings)
    generator.generate({}, seed=3, progress=lambda done, total: calls.append((done, total)))
    assert type(generator.pipeline().scheduler).__name__ == "DPMSolverMultistepScheduler"
    assert calls == [(1, 2), (2, 2)]


def test_available_needs_weights_and_cuda_unless_cpu_is_allowed(models_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("SAFEFACE_MODELS_DIR", str(models_dir))
    monkeypatch.setenv("SAFEFACE_MOBIUS_ALLOW_CPU", "1")
    assert MobiusGenerator.available()
    monkeypatch.setenv("SAFEFACE_MODELS_DIR", str(tmp_path))
    assert not MobiusGenerator.available()
    monkeypatch.setenv("SAFEFACE_MODELS_DIR", str(models_dir))
    monkeypatch.delenv("SAFEFACE_MOBIUS_ALLOW_CPU")
    import torch

    assert MobiusGenerator.available() == torch.cuda.is_available()


def test_registering_and_checking_the_engine_imports_no_torch(tmp_path):
    code = (
        "import sys; from worker.generate.mobius import MobiusGenerator; "
        "print(MobiusGenerator.available()); "
        "print('torch' in sys.modules or 'diffusers' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={"SAFEFACE_MODELS_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.stdout.split() == ["False", "False"]
