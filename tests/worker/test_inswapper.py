"""The inswapper engine's real code path (insightface's model zoo, alignment, emap, paste-back)
on tiny ONNX models with inswapper_128's and ArcFace's exact signatures."""

import cv2
import numpy as np
import pytest

from worker.errors import NoFaceFound
from worker.types import SwapOptions

pytest.importorskip("insightface")
pytest.importorskip("onnx")

from tests.worker.tiny_models import save_tiny_arcface, save_tiny_inswapper
from worker.analysis import MediapipeAnalyser
from worker.swap.inswapper import InswapperSwapper

PLAIN = SwapOptions(colour_match=0.0)


def make_models(root, emap_seed=0):
    save_tiny_inswapper(root / "inswapper_128.onnx", emap_seed=emap_seed)
    save_tiny_arcface(root / "buffalo_l" / "w600k_r50.onnx")
    return root


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    return make_models(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def swapper(models_dir):
    return InswapperSwapper(models_dir=models_dir)


@pytest.fixture(scope="module")
def source(swapper, mobius_avatar_a):
    return swapper.prepare_source(mobius_avatar_a)


@pytest.fixture(scope="module")
def astronaut_faces(astronaut):
    return MediapipeAnalyser().analyse(astronaut)


def footprint(swapper, image, face, dilate=3):
    """Where the paste can reach: the aligned 128 px square mapped back, dilated."""
    from insightface.utils import face_align

    _, matrix = face_align.norm_crop2(image, swapper.keypoints(image, face), 128)
    inverse = cv2.invertAffineTransform(matrix)
    square = np.ones((128, 128), np.uint8)
    reach = cv2.warpAffine(square, inverse, (image.shape[1], image.shape[0]))
    return cv2.dilate(reach, np.ones((2 * dilate + 1, 2 * dilate + 1), np.uint8)) > 0


def inner_face(face, shrink=0.25):
    x0, y0, x1, y1 = face.box
    dx, dy = shrink * face.width, shrink * face.height
    return slice(int(y0 + dy), int(y1 - dy)), slice(int(x0 + dx), int(x1 - dx))


def test_models_load_through_insightface_model_zoo(swapper):
    assert type(swapper.swapper).__name__ == "INSwapper"
    assert type(swapper.recogniser).__name__ == "ArcFaceONNX"
    assert swapper.swapper.emap.shape == (512, 512) and swapper.size == 128


def test_source_embedding_is_unit_length_and_identity_specific(swapper, source, mobius_avatar_b):
    other = swapper.prepare_source(mobius_avatar_b)
    assert source.embedding.shape == (512,)
    assert np.linalg.norm(source.embedding) == pytest.approx(1.0, abs=1e-5)
    assert float(source.embedding @ other.embedding) < 0.999


def test_no_face_in_the_source_is_a_clear_error(swapper):
    with pytest.raises(NoFaceFound):
        swapper.prepare_source(np.full((256, 256, 3), 128, np.uint8))


def test_face_changes_and_background_is_untouched(swapper, source, astronaut, astronaut_faces):
    before = astronaut.copy()
    out = swapper.swap(astronaut, astronaut_faces, source, PLAIN)
    assert np.array_equal(astronaut, before)
    rows, cols = inner_face(astronaut_faces[0])
    change = np.abs(out[rows, cols].astype(int) - astronaut[rows, cols]).mean()
    assert change > 15
    outside = ~footprint(swapper, astronaut, astronaut_faces[0])
    assert np.array_equal(out[outside], astronaut[outside])
    assert swapper.swap_face(astronaut, astronaut_faces[0], source, PLAIN).tobytes() == out.tobytes()


def test_the_embedding_goes_through_emap(tmp_path, source, astronaut, astronaut_faces):
    first = InswapperSwapper(models_dir=make_models(tmp_path / "a", emap_seed=1))
    second = InswapperSwapper(models_dir=make_models(tmp_path / "b", emap_seed=2))
    expected = source.embedding @ first.swapper.emap
    assert np.allclose(first.latent(source)[0], expected / np.linalg.norm(expected), atol=1e-6)
    rows, cols = inner_face(astronaut_faces[0])
    a = first.swap(astronaut, astronaut_faces, source, PLAIN)[rows, cols].astype(int)
    b = second.swap(astronaut, astronaut_faces, source, PLAIN)[rows, cols].astype(int)
    assert np.abs(a - b).mean() > 3


def test_open_mouth_of_the_target_is_kept(swapper, source, astronaut, astronaut_faces):
    from worker.swap.landmark import INNER_LIP_LOOP, mouth_is_open

    face = astronaut_faces[0]
    assert mouth_is_open(face.landmarks)  # she smiles with her teeth showing
    mouth = np.zeros(astronaut.shape[:2], np.uint8)
    cv2.fillPoly(mouth, [np.round(face.landmarks[list(INNER_LIP_LOOP)]).astype(np.int32)], 1)
    mouth = cv2.erode(mouth, np.ones((3, 3), np.uint8)) > 0
    out = swapper.swap(astronaut, [face], source, PLAIN)
    rows, cols = inner_face(face)
    assert np.abs(out[mouth].astype(int) - astronaut[mouth]).mean() < 3
    assert np.abs(out[rows, cols].astype(int) - astronaut[rows, cols]).mean() > 15


def test_colour_match_option_changes_the_result(swapper, source, astronaut, astronaut_faces):
    plain = swapper.swap(astronaut, astronaut_faces, source, PLAIN)
    matched = swapper.swap(astronaut, astronaut_faces, source, SwapOptions(colour_match=1.0))
    rows, cols = inner_face(astronaut_faces[0])
    # The tiny model tints the face; matching its colours to the target's skin undoes most of it.
    plain_change = np.abs(plain[rows, cols].astype(int) - astronaut[rows, cols]).mean()
    matched_change = np.abs(matched[rows, cols].astype(int) - astronaut[rows, cols]).mean()
    assert matched_change < plain_change / 2


def test_faces_selection(swapper, source, astronaut):
    small = cv2.resize(astronaut, (384, 384), interpolation=cv2.INTER_AREA)
    canvas = np.full((512, 1024, 3), 200, np.uint8)
    canvas[:, :512] = astronaut
    canvas[64:448, 576:960] = small
    faces = MediapipeAnalyser().analyse(canvas)
    assert len(faces) == 2
    left = 0 if faces[0].box[0] < faces[1].box[0] else 1
    right = 1 - left
    only_right = swapper.swap(canvas, faces, source, SwapOptions(faces=[right], colour_match=0.0))
    largest = swapper.swap(canvas, faces, source, SwapOptions(faces="largest", colour_match=0.0))
    both = swapper.swap(canvas, faces, source, PLAIN)
    assert np.array_equal(only_right[:, :512], canvas[:, :512])
    assert not np.array_equal(only_right[:, 512:], canvas[:, 512:])
    assert np.array_equal(largest[:, 512:], canvas[:, 512:])
    assert not np.array_equal(largest[:, :512], canvas[:, :512])
    assert not np.array_equal(both[:, :512], canvas[:, :512])
    assert not np.array_equal(both[:, 512:], canvas[:, 512:])


def test_available_needs_both_model_files(models_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("SAFEFACE_MODELS_DIR", str(models_dir))
    assert InswapperSwapper.available()
    save_tiny_inswapper(tmp_path / "inswapper_128.onnx")
    monkeypatch.setenv("SAFEFACE_MODELS_DIR", str(tmp_path))
    assert not InswapperSwapper.available()
