"""The optional GFPGAN enhancer's real code path on a tiny ONNX model with its signature."""

import numpy as np
import pytest

from worker.types import SwapOptions

pytest.importorskip("onnx")

from tests.worker.tiny_models import save_tiny_arcface, save_tiny_gfpgan, save_tiny_inswapper
from worker.analysis import MediapipeAnalyser
from worker.swap.enhancer import GfpganEnhancer


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    save_tiny_gfpgan(root / "gfpgan_1.4.onnx")
    return root


@pytest.fixture(scope="module")
def face(astronaut):
    return MediapipeAnalyser().analyse(astronaut)[0]


def test_enhances_the_face_and_nothing_far_from_it(models_dir, astronaut, face):
    enhancer = GfpganEnhancer(models_dir=models_dir)
    out = enhancer.enhance(astronaut, face.keypoints)
    x0, y0, x1, y1 = (int(v) for v in face.box)
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    centre = np.s_[cy - 15:cy + 15, cx - 15:cx + 15]
    # The tiny model halves contrast around mid-grey: the face's spread shrinks.
    assert out[centre].std() < 0.7 * astronaut[centre].std()
    side = 3 * (x1 - x0)
    far = np.ones(astronaut.shape[:2], bool)
    far[max(0, cy - side):cy + side, max(0, cx - side):cx + side] = False
    assert np.array_equal(out[far], astronaut[far])


def test_available_only_with_its_file(models_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("SAFEFACE_MODELS_DIR", str(models_dir))
    assert GfpganEnhancer.available()
    monkeypatch.setenv("SAFEFACE_MODELS_DIR", str(tmp_path))
    assert not GfpganEnhancer.available()


def test_inswapper_runs_the_enhancer_when_asked(models_dir, astronaut, face, mobius_avatar_a,
                                                monkeypatch):
    from worker.swap.inswapper import InswapperSwapper

    save_tiny_inswapper(models_dir / "inswapper_128.onnx")
    save_tiny_arcface(models_dir / "buffalo_l" / "w600k_r50.onnx")
    monkeypatch.setenv("SAFEFACE_MODELS_DIR", str(models_dir))
    swapper = InswapperSwapper(models_dir=models_dir)
    source = swapper.prepare_source(mobius_avatar_a)
    plain = swapper.swap(astronaut, [face], source, SwapOptions(colour_match=0.0))
    enhanced = swapper.swap(astronaut, [face], source,
                            SwapOptions(colour_match=0.0, enhance=True))
    assert not np.array_equal(plain, enhanced)
