"""Face analysis on real photos: faces found where they are, small and several; bad input."""

import cv2
import numpy as np
import pytest

from tests.worker.faceutil import box_iou, canvas, map_box, paste
from worker import api
from worker.analysis import (
    _POSE_MESH_INDICES,
    _POSE_MODEL_POINTS,
    MediapipeAnalyser,
    create_face_mesh,
    estimate_pose,
    face_from_landmarks,
    mesh_results_to_pixels,
)

# Where the astronaut's face is (x0, y0, x1, y1), read off the photo by eye: brow line to chin,
# ear to ear.
ASTRONAUT_FACE = (175, 65, 275, 185)


@pytest.fixture(scope="module")
def analyser() -> MediapipeAnalyser:
    return MediapipeAnalyser()


@pytest.fixture(scope="module")
def astronaut_face(analyser, astronaut):
    return analyser.analyse(astronaut)[0]


def test_astronaut_face_found_with_plausible_geometry(analyser, astronaut):
    faces = analyser.analyse(astronaut)
    assert len(faces) == 1
    face = faces[0]
    assert face.score >= 0.8
    assert box_iou(face.box, ASTRONAUT_FACE) >= 0.6
    assert face.landmarks.shape == (478, 2)
    assert face.keypoints.shape == (5, 2)
    left_eye, right_eye, nose, mouth_left, mouth_right = face.keypoints
    assert left_eye[0] < nose[0] < right_eye[0]
    assert mouth_left[0] < mouth_right[0]
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_left[1], mouth_right[1])
    assert abs(face.pose.yaw) < 15 and abs(face.pose.roll) < 10


def test_grace_hopper_face_found(analyser, grace_hopper):
    faces = analyser.analyse(grace_hopper)
    assert len(faces) == 1
    x0, y0, x1, y1 = faces[0].box
    height, width = grace_hopper.shape[:2]
    # A head-and-shoulders portrait: the face is in the upper middle and a third of the width.
    assert 0.25 * width < (x0 + x1) / 2 < 0.75 * width
    assert (y0 + y1) / 2 < 0.6 * height
    assert 0.25 * width < x1 - x0 < 0.6 * width


def test_api_analyse_uses_the_mediapipe_backend(astronaut):
    faces = api.analyse(astronaut)
    assert len(faces) == 1 and box_iou(faces[0].box, ASTRONAUT_FACE) >= 0.6


@pytest.mark.parametrize(("width", "height", "scale"), [(1280, 720, 0.6), (1280, 720, 1.2),
                                                         (1920, 1080, 0.8), (3840, 2160, 1.2)])
def test_small_face_in_a_large_frame_is_found(analyser, astronaut, astronaut_face,
                                              width, height, scale):
    crop_origin = (120, 20)
    crop = astronaut[20:240, 120:330]
    scene = canvas(width, height)
    at = (width - 400, height // 3)
    paste(scene, crop, *at, scale=scale)
    in_crop = (astronaut_face.box[0] - crop_origin[0], astronaut_face.box[1] - crop_origin[1],
               astronaut_face.box[2] - crop_origin[0], astronaut_face.box[3] - crop_origin[1])
    expected = map_box(in_crop, at, scale)
    assert expected[2] - expected[0] < 120  # a small face indeed: 55 to 110 px wide

    faces = analyser.analyse(scene)

    assert len(faces) == 1
    assert box_iou(faces[0].box, expected) >= 0.8


def test_several_faces_are_all_found_largest_first(analyser, astronaut, grace_hopper,
                                                   astronaut_face):
    scene = canvas(1280, 720, seed=1)
    grace_face = analyser.analyse(grace_hopper)[0]
    astronaut_crop = astronaut[20:240, 120:330]
    grace_crop = grace_hopper[60:420, 80:440]
    placements = [  # (patch, face box in the patch, origin, scale)
        (astronaut_crop, astronaut_face.box, (120, 20), (60, 200), 1.0),
        (astronaut_crop[:, ::-1], None, (120, 20), (420, 380), 0.7),
        (grace_crop, grace_face.box, (80, 60), (800, 150), 1.1),
    ]
    expected = []
    for patch, box, (cx, cy), at, scale in placements:
        paste(scene, np.ascontiguousarray(patch), *at, scale=scale)
        if box is None:  # the mirrored astronaut: mirror her face box inside the crop
            width = patch.shape[1]
            box = (cx + width - (astronaut_face.box[2] - cx), astronaut_face.box[1],
                   cx + width - (astronaut_face.box[0] - cx), astronaut_face.box[3])
        expected.append(map_box((box[0] - cx, box[1] - cy, box[2] - cx, box[3] - cy), at, scale))

    faces = analyser.analyse(scene)

    assert len(faces) == 3
    for box in expected:
        assert max(box_iou(face.box, box) for face in faces) >= 0.8
    areas = [face.area for face in faces]
    assert areas == sorted(areas, reverse=True)


def test_close_up_portrait_is_one_face(analyser, mobius_avatar_a):
    faces = analyser.analyse(mobius_avatar_a)
    assert len(faces) == 1
    assert faces[0].width > 0.6 * mobius_avatar_a.shape[1]


def test_no_face_gives_an_empty_list(analyser):
    assert analyser.analyse(canvas(640, 480)) == []


@pytest.mark.parametrize("bad", [
    np.zeros((64, 64, 3), np.float32),
    np.zeros((64, 64), np.uint8),
    np.zeros((64, 64, 4), np.uint8),
    np.zeros((0, 0, 3), np.uint8),
])
def test_bad_input_is_refused(analyser, bad):
    with pytest.raises(ValueError):
        analyser.analyse(bad)


def test_a_list_is_not_an_image(analyser):
    with pytest.raises(TypeError):
        analyser.analyse([[0, 0, 0]])


def test_face_from_landmarks_rebuilds_the_face(astronaut_face):
    rebuilt = face_from_landmarks(astronaut_face.landmarks, score=astronaut_face.score)
    assert rebuilt.box == astronaut_face.box
    np.testing.assert_array_equal(rebuilt.keypoints, astronaut_face.keypoints)
    assert rebuilt.pose == astronaut_face.pose


def test_tracking_mesh_and_helpers_give_the_same_face(astronaut, astronaut_face):
    mesh = create_face_mesh(static_image_mode=False)
    try:
        for _ in range(3):  # tracking mode: the later frames follow the first detection
            points = mesh_results_to_pixels(mesh.process(astronaut), 512, 512)
    finally:
        mesh.close()
    assert len(points) == 1
    face = face_from_landmarks(points[0])
    assert box_iou(face.box, astronaut_face.box) >= 0.9


@pytest.mark.parametrize("angle", [-25, 25])
def test_roll_follows_an_in_plane_rotation(analyser, astronaut, angle):
    # cv2 turns counter-clockwise for positive angles; the pose's roll is clockwise-positive.
    matrix = cv2.getRotationMatrix2D((225, 125), angle, 1.0)
    rotated = cv2.warpAffine(astronaut, matrix, (512, 512), borderMode=cv2.BORDER_REFLECT)
    upright = analyser.analyse(astronaut)[0].pose.roll
    pose = analyser.analyse(rotated)[0].pose
    assert pose.roll - upright == pytest.approx(-angle, abs=5)


@pytest.mark.parametrize(("turn", "expected"), [
    ({"yaw": 30}, "yaw"), ({"yaw": -30}, "yaw"),
    ({"pitch": 20}, "pitch"), ({"pitch": -20}, "pitch"),
])
def test_pose_signs_on_a_projected_head(turn, expected):
    """Project the canonical head turned by a known angle; the estimate reads it back."""
    yaw = np.radians(turn.get("yaw", 0))
    pitch = np.radians(turn.get("pitch", 0))
    # Camera axes: x right, y down, z forward; the model has y up and z towards the camera.
    model = _POSE_MODEL_POINTS * np.array([1.0, -1.0, -1.0])
    # Positive yaw turns the nose towards image-right, positive pitch lifts it.
    turn_y = np.array([[np.cos(yaw), 0, -np.sin(yaw)], [0, 1, 0], [np.sin(yaw), 0, np.cos(yaw)]])
    turn_x = np.array([[1, 0, 0], [0, np.cos(pitch), np.sin(pitch)],
                       [0, -np.sin(pitch), np.cos(pitch)]])
    points = (turn_y @ turn_x @ model.T).T + np.array([0.0, 0.0, 70.0])
    pixels = points[:, :2] / points[:, 2:] * 800 + 400
    landmarks = np.tile(pixels.mean(axis=0), (478, 1)).astype(np.float32)
    landmarks[list(_POSE_MESH_INDICES)] = pixels

    pose = estimate_pose(landmarks)

    angle = turn[expected]
    assert getattr(pose, expected) == pytest.approx(angle, abs=5)
    other = "pitch" if expected == "yaw" else "yaw"
    assert abs(getattr(pose, other)) < 5
