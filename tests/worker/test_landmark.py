"""The landmark swapper on real photos: the face changes, pose and expression stay, nothing
else moves."""

import cv2
import numpy as np
import pytest

from tests.worker.faceutil import (
    box_iou,
    canvas,
    face_mask,
    inner_face_mask,
    landmark_drift,
    paste,
)
from worker.analysis import MediapipeAnalyser
from worker.errors import FaceTooSmall, NoFaceFound
from worker.swap.landmark import (
    INNER_LIP_LOOP,
    MID_FOREHEAD,
    LandmarkSwapper,
    colour_match,
    lab_stats,
    mouth_is_open,
    prepared,
    swap_face,
    with_loop_centres,
)
from worker.types import SwapOptions

# The mean absolute difference over the inner face must be well above JPEG-level noise (~2).
CHANGED = 12.0
# Mesh points around each eyebrow (image left: the subject's right brow).
BROW_IMAGE_LEFT = (70, 63, 105, 66, 107, 55, 65, 52, 53, 46)
BROW_IMAGE_RIGHT = (300, 293, 334, 296, 336, 285, 295, 282, 283, 276)
# A near-black lock of hair drawn over a face (a mid-brown one is too close to a side-lit
# light face's cheek colour for the skin test, see soft_occluders).
LOCK_COLOUR = (28, 22, 18)


@pytest.fixture(scope="module")
def analyser() -> MediapipeAnalyser:
    return MediapipeAnalyser()


@pytest.fixture(scope="module")
def swapper() -> LandmarkSwapper:
    return LandmarkSwapper()


@pytest.fixture(scope="module")
def source_a(swapper, mobius_avatar_a):
    return swapper.prepare_source(mobius_avatar_a)


@pytest.fixture(scope="module")
def source_b(swapper, mobius_avatar_b):
    return swapper.prepare_source(mobius_avatar_b)


def _inner_diff_in(before: np.ndarray, after: np.ndarray, region: np.ndarray) -> float:
    return float(np.abs(before.astype(np.int16) - after.astype(np.int16))[region].mean())


def _inner_diff(before: np.ndarray, after: np.ndarray, landmarks: np.ndarray) -> float:
    """Mean absolute difference over the central face (no hair, no background)."""
    return _inner_diff_in(before, after, inner_face_mask(landmarks, before.shape))


@pytest.mark.parametrize("target_name", ["astronaut", "grace_hopper"])
@pytest.mark.parametrize("source_name", ["source_a", "source_b"])
def test_swap_changes_the_face_and_nothing_else(request, analyser, swapper, target_name,
                                                source_name):
    target = request.getfixturevalue(target_name)
    source = request.getfixturevalue(source_name)
    before = target.copy()
    faces = analyser.analyse(target)

    out = swapper.swap(target, faces, source, SwapOptions())

    np.testing.assert_array_equal(target, before)  # the input is not touched
    assert out.shape == target.shape and out.dtype == np.uint8
    after = analyser.analyse(out)
    assert len(after) == 1
    face, swapped = faces[0], after[0]
    assert box_iou(face.box, swapped.box) >= 0.8
    # Pose and expression kept: the swapped face's mesh sits where the target's was.
    assert landmark_drift(face.landmarks, swapped.landmarks) < 0.03
    assert _inner_diff(target, out, face.landmarks) > CHANGED
    outside = ~face_mask(face.landmarks, target.shape, dilate=3)
    np.testing.assert_array_equal(out[outside], target[outside])


def test_swap_is_not_the_source_pasted_blindly(analyser, swapper, astronaut, source_a, source_b):
    faces = analyser.analyse(astronaut)
    out_a = swapper.swap(astronaut, faces, source_a)
    out_b = swapper.swap(astronaut, faces, source_b)
    assert _inner_diff(out_a, out_b, faces[0].landmarks) > CHANGED / 2


def test_face_selection(analyser, swapper, astronaut, grace_hopper, source_b):
    scene = canvas(1280, 720, seed=3)
    paste(scene, astronaut[20:240, 120:330], 100, 150)
    paste(scene, grace_hopper[60:420, 80:440], 700, 200)
    faces = analyser.analyse(scene)
    assert len(faces) == 2
    masks = [face_mask(face.landmarks, scene.shape, dilate=3) for face in faces]

    def changed(out: np.ndarray) -> list[bool]:
        return [bool((out[mask] != scene[mask]).any()) for mask in masks]

    assert changed(swapper.swap(scene, faces, source_b, SwapOptions(faces="all"))) == [True, True]
    largest = swapper.swap(scene, faces, source_b, SwapOptions(faces="largest"))
    assert changed(largest) == [True, False]
    assert changed(swapper.swap(scene, faces, source_b, SwapOptions(faces=[1]))) == [False, True]
    assert changed(swapper.swap(scene, faces, source_b, SwapOptions(faces=[]))) == [False, False]
    with pytest.raises(ValueError):
        swapper.swap(scene, faces, source_b, SwapOptions(faces=[2]))


def test_colour_match_strength_matters(analyser, swapper, grace_hopper, source_a):
    faces = analyser.analyse(grace_hopper)
    plain = swapper.swap(grace_hopper, faces, source_a, SwapOptions(colour_match=0.0))
    matched = swapper.swap(grace_hopper, faces, source_a, SwapOptions(colour_match=1.0))
    assert _inner_diff(plain, matched, faces[0].landmarks) > 3.0
    # Matching pulls the face's mean colour towards the target's own skin.
    inner = inner_face_mask(faces[0].landmarks, grace_hopper.shape)
    target_mean = grace_hopper[inner].mean(axis=0)
    assert (np.abs(matched[inner].mean(axis=0) - target_mean).sum()
            < np.abs(plain[inner].mean(axis=0) - target_mean).sum())


def test_feather_softens_the_edge(analyser, swapper, astronaut, source_b):
    faces = analyser.analyse(astronaut)
    hard = swapper.swap(astronaut, faces, source_b, SwapOptions(feather=0.0))
    soft = swapper.swap(astronaut, faces, source_b, SwapOptions(feather=1.0))
    # Near the face's edge a hard mask replaces at full strength, a soft one fades out.
    landmarks = faces[0].landmarks
    rim = face_mask(landmarks, astronaut.shape) & ~inner_face_mask(landmarks, astronaut.shape)
    assert _inner_diff_in(astronaut, hard, rim) > 1.3 * _inner_diff_in(astronaut, soft, rim)
    assert not np.array_equal(hard, soft)


def test_open_mouth_keeps_the_targets_teeth(analyser, swapper, astronaut, source_b):
    face = analyser.analyse(astronaut)[0]
    assert mouth_is_open(with_loop_centres(face.landmarks))  # she smiles with teeth showing
    out = swapper.swap(astronaut, [face], source_b)
    mouth = np.zeros(astronaut.shape[:2], np.uint8)
    cv2.fillPoly(mouth, [np.round(face.landmarks[list(INNER_LIP_LOOP)]).astype(np.int32)], 1)
    inside = mouth.astype(bool)
    assert inside.sum() > 50
    np.testing.assert_array_equal(out[inside], astronaut[inside])
    # ... while the lips around it did change.
    lips = cv2.dilate(mouth, np.ones((9, 9), np.uint8)).astype(bool) & ~inside
    assert np.abs(out[lips].astype(int) - astronaut[lips].astype(int)).mean() > 5


def test_closed_mouth_is_replaced(analyser, swapper, grace_hopper, source_a):
    face = analyser.analyse(grace_hopper)[0]
    assert not mouth_is_open(with_loop_centres(face.landmarks))
    out = swapper.swap(grace_hopper, [face], source_a)
    lips = face.landmarks[list(INNER_LIP_LOOP)]
    x0, y0 = np.floor(lips.min(axis=0)).astype(int)
    x1, y1 = np.ceil(lips.max(axis=0)).astype(int)
    assert (out[y0:y1 + 1, x0:x1 + 1] != grace_hopper[y0:y1 + 1, x0:x1 + 1]).any()


def test_swap_face_with_precomputed_landmarks(analyser, swapper, astronaut, source_b):
    face = analyser.analyse(astronaut)[0]
    np.testing.assert_array_equal(swap_face(astronaut, face, source_b),
                                  swapper.swap(astronaut, [face], source_b))


def test_prepare_source_without_a_face(swapper):
    with pytest.raises(NoFaceFound):
        swapper.prepare_source(canvas(512, 512))


def test_prepare_source_with_a_tiny_face(swapper, mobius_avatar_b):
    scene = canvas(640, 480, seed=5)
    small = cv2.resize(mobius_avatar_b, (80, 80), interpolation=cv2.INTER_AREA)
    paste(scene, small, 280, 200)
    with pytest.raises(FaceTooSmall):
        swapper.prepare_source(scene)


def test_swap_refuses_bad_frames(swapper, source_b):
    with pytest.raises(ValueError):
        swapper.swap(np.zeros((64, 64), np.uint8), [], source_b)


def _fringe(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Draw a near-black lock of hair from above mid-forehead down across the image-left brow,
    in place; returns its pixels as a bool mask."""
    size = float(np.linalg.norm(landmarks[10, :2] - landmarks[152, :2]))
    top = landmarks[MID_FOREHEAD, :2] + np.array([-0.05, -0.12]) * size
    bottom = landmarks[list(BROW_IMAGE_LEFT), :2].mean(axis=0)
    lock = np.zeros(image.shape[:2], np.uint8)
    cv2.line(lock, tuple(np.round(top).astype(int)), tuple(np.round(bottom).astype(int)), 1,
             thickness=max(3, round(0.06 * size)))
    image[lock > 0] = LOCK_COLOUR
    return lock > 0


def test_hair_over_the_targets_brow_stays_in_front(analyser, swapper, astronaut, source_b):
    face = analyser.analyse(astronaut)[0]
    target = astronaut.copy()
    lock = _fringe(target, face.landmarks)
    inner = inner_face_mask(face.landmarks, target.shape)
    assert (lock & face_mask(face.landmarks, target.shape)).sum() > 150

    out = swapper.swap(target, [face], source_b)

    np.testing.assert_array_equal(out[lock], target[lock])
    assert _inner_diff_in(target, out, inner & ~lock) > CHANGED


def test_hair_over_the_sources_brow_is_not_pasted(analyser, swapper, mobius_avatar_b):
    avatar = mobius_avatar_b.copy()
    source_face = analyser.analyse(avatar)[0]
    _fringe(avatar, source_face.landmarks)
    ready = prepared(swapper.prepare_source(avatar))
    rgb, visible = ready.crop[..., :3], ready.crop[..., 3]
    # The lock's colour survives the crop's downscale inside it: below mid-forehead (above, the
    # swap keeps the target anyway) the face is hidden there ...
    points = ready.points
    up = points[10] - points[152]
    rows, cols = np.indices(visible.shape)
    below = (cols - points[MID_FOREHEAD, 0]) * up[0] + (rows - points[MID_FOREHEAD, 1]) * up[1] < 0
    in_lock = (rgb == LOCK_COLOUR).all(axis=2) & below
    assert in_lock.sum() > 100
    assert (visible[in_lock] == 0).all()
    # ... while the rest of the face is visible.
    skin = inner_face_mask(ready.points, rgb.shape)
    assert (visible[skin & ~in_lock] == 255).mean() > 0.9


def _brow_mask(shape: tuple[int, ...], landmarks: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape[:2], np.uint8)
    for brow in (BROW_IMAGE_LEFT, BROW_IMAGE_RIGHT):
        cv2.fillPoly(mask, [np.round(landmarks[list(brow), :2]).astype(np.int32)], 1)
    return mask > 0


def test_colour_match_leaves_no_blue_cast_on_dark_features(analyser, astronaut,
                                                          mobius_avatar_b):
    """A dark, warm-skinned source (LAB mean 36, 29, 31: the Monk 8 avatar that showed blue
    brows) matched to the astronaut's light skin: real brow pixels keep their own chroma
    instead of being shifted by the skins' difference (which would push them blue)."""
    face = analyser.analyse(mobius_avatar_b)[0]
    brows = mobius_avatar_b[_brow_mask(mobius_avatar_b.shape, face.landmarks)][None]
    dark_skin = (np.array([36.0, 29.0, 31.0], np.float32), np.array([8.0, 3.5, 4.0], np.float32))
    target = analyser.analyse(astronaut)[0]
    light_skin = lab_stats(astronaut, inner_face_mask(target.landmarks, astronaut.shape))
    assert light_skin[0][2] < dark_skin[0][2] - 10  # the skins' chroma really differs

    matched = np.clip(np.rint(colour_match(brows, dark_skin, light_skin, 1.0)), 0, 255)

    def chroma(pixels: np.ndarray) -> np.ndarray:
        lab = cv2.cvtColor(pixels.astype(np.uint8), cv2.COLOR_RGB2LAB).astype(np.float32)
        return lab[0, :, 1:].mean(axis=0) - 128

    before, after = chroma(brows), chroma(matched)
    assert after[1] > 0  # not blue
    # A plain shift by the skins' difference would move them by 15-20 units.
    assert np.abs(after - before).max() < 6
