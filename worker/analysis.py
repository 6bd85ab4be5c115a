"""Face analysis on mediapipe: detection (whole image and tiles), 478-point mesh, pose."""

from __future__ import annotations

import threading
from typing import Any

import cv2
import numpy as np

from worker.registry import register
from worker.types import Face, Image, Pose

MESH_POINTS = 478

# Mesh indices (mediapipe's canonical face mesh). "Image-left" is the subject's right side on a
# frontal face, which is what ArcFace's 5-point template expects first.
IRIS_CENTRE_IMAGE_LEFT = 468
IRIS_CENTRE_IMAGE_RIGHT = 473
NOSE_TIP = 1
MOUTH_CORNER_IMAGE_LEFT = 61
MOUTH_CORNER_IMAGE_RIGHT = 291

# Points of mediapipe's canonical face model (face_geometry/data/canonical_face_model.obj, in
# cm: x towards image-right, y up, z towards the camera), for solvePnP: nose tip, chin, outer and
# inner eye corners, mouth corners, forehead.
_POSE_MESH_INDICES = (1, 152, 33, 263, 133, 362, 61, 291, 10)
_CANONICAL_POINTS = np.array(
    [
        (0.0, -1.126865, 7.475604),
        (0.0, -9.403378, 4.264492),
        (-4.445859, 2.663991, 3.173422),
        (4.445859, 2.663991, 3.173422),
        (-1.856432, 2.585245, 3.757904),
        (1.856432, 2.585245, 3.757904),
        (-2.456206, -4.342621, 4.283884),
        (2.456206, -4.342621, 4.283884),
        (0.0, 8.261778, 4.481535),
    ],
    dtype=np.float64,
)
# The canonical model's frame is not the frame of a face looking into the lens: the mesh places
# these nine points on frontal faces as the model would project tilted chin-down, so the
# unrotated model read pitch -7 (median) on 555 frontal generated adults, -8 and -9 on the
# two Mobius portraits and -14 to -16 on the astronaut and Grace Hopper photos. The model is
# turned chin-up by this angle (the median offset), which reads those at about +1, 0, 0 and
# -6 to -8 (the two photos are taken from slightly above).
_FRONTAL_TILT_DEGREES = 8.0
_TILT = np.radians(_FRONTAL_TILT_DEGREES)
_POSE_MODEL_POINTS = _CANONICAL_POINTS @ np.array(
    [[1.0, 0.0, 0.0], [0.0, np.cos(_TILT), np.sin(_TILT)],
     [0.0, -np.sin(_TILT), np.cos(_TILT)]])
# Forehead (10) to chin (152) in the canonical model, cm.
_MODEL_FACE_HEIGHT = 17.67

# Detection thresholds (FACTS.md): one whole-image pass may keep weaker hits because the mesh
# verifies each box; tiled passes see many more windows, so they keep only confident ones.
WHOLE_IMAGE_MIN_SCORE = 0.6
TILE_MIN_SCORE = 0.8
# Tiles of 480 and 640 px, half-overlapping, found all faces of a 1280 px group photo; bigger
# images get proportionally bigger tiles so the number of detector runs stays bounded.
TILE_SIZES = (480, 640)
TILE_REFERENCE_SIDE = 1920
# The mesh runs on a square crop this many face-sizes wide around each detection.
CROP_SCALE = 2.2
# A mesh crop smaller than this is upscaled first, so tiny faces still reach the mesh model.
MIN_CROP_SIDE = 256


def box_iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def check_image(image: Any) -> None:
    """Raise unless ``image`` is an RGB uint8 array of shape (H, W, 3): TypeError for what is
    not an array at all, ValueError for an array of the wrong kind."""
    if not isinstance(image, np.ndarray):
        raise TypeError("expected a numpy array")
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {image.dtype}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) RGB image, got shape {image.shape}")
    if image.shape[0] < 2 or image.shape[1] < 2:
        raise ValueError("the image is empty")


def create_face_mesh(*, static_image_mode: bool = True, max_num_faces: int = 1) -> Any:
    """A mediapipe FaceMesh graph with iris refinement (478 points). Not thread safe: one per user.

    ``static_image_mode=False`` gives the tracking mode that video frames want.
    """
    import mediapipe as mp

    return mp.solutions.face_mesh.FaceMesh(
        static_image_mode=static_image_mode,
        max_num_faces=max_num_faces,
        refine_landmarks=True,
        min_detection_confidence=0.5,
        min_tracking_confidence=0.5,
    )


def create_face_detector(*, model_selection: int = 1, min_score: float = 0.5) -> Any:
    """A mediapipe FaceDetection graph: model 1 is full range (small faces), 0 short range."""
    import mediapipe as mp

    return mp.solutions.face_detection.FaceDetection(
        model_selection=model_selection, min_detection_confidence=min_score
    )


def mesh_results_to_pixels(results: Any, width: int, height: int) -> list[np.ndarray]:
    """FaceMesh ``process`` results as (478, 2) float32 arrays in pixels of the processed image."""
    faces = []
    for face_landmarks in results.multi_face_landmarks or ():
        points = np.array([(p.x, p.y) for p in face_landmarks.landmark], dtype=np.float32)
        points *= np.array([width, height], dtype=np.float32)
        faces.append(points)
    return faces


def estimate_pose(landmarks: np.ndarray) -> Pose:
    """Yaw, pitch and roll in degrees from nine mesh points, by solvePnP against mediapipe's
    canonical face.

    The camera is centred on the face with a focal length of a few face widths (a portrait
    lens), so the pose reads the same wherever the face sits in the frame. Positive yaw: the
    face turns towards image-right; positive pitch: it looks up; positive roll: clockwise tilt
    in the image.
    """
    points = np.asarray(landmarks, dtype=np.float64)[list(_POSE_MESH_INDICES), :2]
    x0, y0 = landmarks[:, 0].min(), landmarks[:, 1].min()
    x1, y1 = landmarks[:, 0].max(), landmarks[:, 1].max()
    size = max(float(x1 - x0), float(y1 - y0), 1.0)
    focal = 4.0 * size
    camera = np.array([[focal, 0, (x0 + x1) / 2], [0, focal, (y0 + y1) / 2], [0, 0, 1]],
                      dtype=np.float64)
    # The model has y up; image y grows downwards, so flip the model into camera axes.
    model = _POSE_MODEL_POINTS * np.array([1.0, -1.0, -1.0])
    # Start from a frontal head at the distance its size implies: without a guess the solver can
    # settle on the mirrored solution (a head rolled by 180 degrees behind the camera).
    rvec = np.zeros((3, 1))
    tvec = np.array([[0.0], [0.0], [focal * _MODEL_FACE_HEIGHT / size]])
    ok, rvec, _ = cv2.solvePnP(model, points, camera, None, rvec=rvec, tvec=tvec,
                               useExtrinsicGuess=True, flags=cv2.SOLVEPNP_ITERATIVE)
    if not ok:
        return Pose(0.0, 0.0, 0.0)
    rotation, _ = cv2.Rodrigues(rvec)
    # rotation = Rz(roll) @ Ry(yaw) @ Rx(pitch) in camera axes (x right, y down, z forward).
    yaw = np.degrees(np.arcsin(np.clip(-rotation[2, 0], -1.0, 1.0)))
    pitch = np.degrees(np.arctan2(rotation[2, 1], rotation[2, 2]))
    roll = np.degrees(np.arctan2(rotation[1, 0], rotation[0, 0]))
    return Pose(yaw=float(-yaw), pitch=float(-pitch), roll=float(roll))


def face_from_landmarks(landmarks: np.ndarray, *, score: float = 1.0) -> Face:
    """A Face from 478 mesh points in image pixels: box from the mesh extent, 5 ArcFace
    keypoints (iris centres, nose tip, mouth corners) and a pose estimate."""
    points = np.ascontiguousarray(np.asarray(landmarks, dtype=np.float32)[:, :2])
    if points.shape != (MESH_POINTS, 2):
        raise ValueError(f"expected {MESH_POINTS} mesh points, got {points.shape[0]}")
    keypoints = points[[IRIS_CENTRE_IMAGE_LEFT, IRIS_CENTRE_IMAGE_RIGHT, NOSE_TIP,
                        MOUTH_CORNER_IMAGE_LEFT, MOUTH_CORNER_IMAGE_RIGHT]].copy()
    box = (float(points[:, 0].min()), float(points[:, 1].min()),
           float(points[:, 0].max()), float(points[:, 1].max()))
    return Face(box=box, score=float(score), keypoints=keypoints, landmarks=points,
                pose=estimate_pose(points))


def _tiles(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """Half-overlapping square windows (x0, y0, x1, y1) covering the image, at each tile size."""
    scale = max(1.0, max(width, height) / TILE_REFERENCE_SIDE)
    windows = []
    for base in TILE_SIZES:
        side = int(base * scale)
        if side >= max(width, height):
            continue
        step = side // 2
        xs = list(range(0, max(width - side, 0) + 1, step))
        ys = list(range(0, max(height - side, 0) + 1, step))
        if xs[-1] + side < width:
            xs.append(width - side)
        if ys[-1] + side < height:
            ys.append(height - side)
        windows += [(x, y, min(x + side, width), min(y + side, height)) for y in ys for x in xs]
    return windows


def box_overlap(a: tuple[float, float, float, float],
                b: tuple[float, float, float, float]) -> float:
    """Intersection over the smaller box's area: 1.0 when one box lies inside the other."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy / smaller if smaller > 0 else 0.0


def _merge_boxes(hits: list[tuple[tuple[float, float, float, float], float]],
                 overlap: float = 0.3) -> list[tuple[tuple[float, float, float, float], float]]:
    """Greedy non-maximum suppression: the best-scoring box of each overlapping group."""
    kept: list[tuple[tuple[float, float, float, float], float]] = []
    for box, score in sorted(hits, key=lambda hit: -hit[1]):
        if all(box_iou(box, other) < overlap for other, _ in kept):
            kept.append((box, score))
    return kept


@register("analyse", "mediapipe", priority=10)
class MediapipeAnalyser:
    """Finds faces with mediapipe's detectors and measures each with the 478-point mesh."""

    name = "mediapipe"
    version = "mediapipe-0.10.21"

    def __init__(self) -> None:
        self._graphs: dict[str, Any] = {}
        # mediapipe graphs are not thread safe; one analyser serves one call at a time.
        self._lock = threading.Lock()

    @classmethod
    def available(cls) -> bool:
        try:
            import mediapipe  # noqa: F401
        except ImportError:
            return False
        return True

    def _graph(self, key: str) -> Any:
        if key not in self._graphs:
            if key == "mesh":
                self._graphs[key] = create_face_mesh(static_image_mode=True, max_num_faces=1)
            elif key == "mesh-many":
                self._graphs[key] = create_face_mesh(static_image_mode=True, max_num_faces=8)
            elif key == "full-range":
                self._graphs[key] = create_face_detector(model_selection=1,
                                                         min_score=WHOLE_IMAGE_MIN_SCORE)
            else:
                self._graphs[key] = create_face_detector(model_selection=int(key[-1]),
                                                         min_score=TILE_MIN_SCORE)
        return self._graphs[key]

    def analyse(self, image: Image) -> list[Face]:
        """Every face in the image, largest first; [] when there is none."""
        check_image(image)
        image = np.ascontiguousarray(image)
        with self._lock:
            boxes = self._detect(image)
            faces = [face for box, score in boxes
                     if (face := self._mesh_in_box(image, box, score)) is not None]
            if not faces:
                # A face that fills the frame can escape the detectors; the mesh's own
                # detector still sees it.
                height, width = image.shape[:2]
                results = self._graph("mesh-many").process(image)
                faces = [face_from_landmarks(points, score=0.5)
                         for points in mesh_results_to_pixels(results, width, height)]
        unique: list[Face] = []
        for face in sorted(faces, key=lambda f: -f.score):
            # A mesh fitted on part of a bigger face (an eye, the mouth) lies inside it.
            if all(box_overlap(face.box, other.box) < 0.5 for other in unique):
                unique.append(face)
        return sorted(unique, key=lambda f: -f.area)

    def _detect(self, image: Image) -> list[tuple[tuple[float, float, float, float], float]]:
        """Candidate face boxes in image pixels with their detector scores, merged."""
        height, width = image.shape[:2]
        hits = self._detections(self._graph("full-range"), image, 0, 0, WHOLE_IMAGE_MIN_SCORE)
        for x0, y0, x1, y1 in _tiles(width, height):
            tile = np.ascontiguousarray(image[y0:y1, x0:x1])
            for key in ("tile-model-1", "tile-model-0"):
                hits += self._detections(self._graph(key), tile, x0, y0, TILE_MIN_SCORE)
        return _merge_boxes(hits)

    @staticmethod
    def _detections(detector: Any, image: Image, dx: int, dy: int, min_score: float
                    ) -> list[tuple[tuple[float, float, float, float], float]]:
        """Detector hits as boxes in the full image's pixels. The score is filtered here too:
        mediapipe's own threshold let weaker hits through in tiles."""
        height, width = image.shape[:2]
        results = detector.process(image)
        hits = []
        for detection in results.detections or ():
            if detection.score[0] < min_score:
                continue
            rel = detection.location_data.relative_bounding_box
            x0 = dx + rel.xmin * width
            y0 = dy + rel.ymin * height
            hits.append(((x0, y0, x0 + rel.width * width, y0 + rel.height * height),
                         float(detection.score[0])))
        return hits

    def _mesh_in_box(self, image: Image, box: tuple[float, float, float, float],
                     score: float) -> Face | None:
        """The mesh on a padded square crop around a detection, kept if it agrees with the box."""
        height, width = image.shape[:2]
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        half = max(box[2] - box[0], box[3] - box[1]) * CROP_SCALE / 2
        x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
        x1, y1 = min(width, int(cx + half) + 1), min(height, int(cy + half) + 1)
        if x1 - x0 < 8 or y1 - y0 < 8:
            return None
        crop = image[y0:y1, x0:x1]
        zoom = max(1.0, MIN_CROP_SIDE / max(crop.shape[:2]))
        if zoom > 1.0:
            crop = cv2.resize(crop, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_CUBIC)
        crop = np.ascontiguousarray(crop)
        found = mesh_results_to_pixels(self._graph("mesh").process(crop),
                                       crop.shape[1], crop.shape[0])
        if not found:
            return None
        points = found[0] / np.float32(zoom) + np.array([x0, y0], dtype=np.float32)
        face = face_from_landmarks(points, score=score)
        # The mesh box spans forehead to chin, the detector's brow to chin: they overlap well
        # for the same face and hardly at all for a neighbour caught in the crop.
        if box_iou(face.box, box) < 0.25:
            return None
        return face
