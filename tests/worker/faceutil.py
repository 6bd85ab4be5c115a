"""Measurements that engine tests share: box overlap, face masks, landmark drift, pasted scenes."""

from __future__ import annotations

import cv2
import numpy as np

Box = tuple[float, float, float, float]


def box_iou(a: Box, b: Box) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def hull_mask(points: np.ndarray, shape: tuple[int, ...], *, dilate: int = 0) -> np.ndarray:
    """A bool (H, W) mask of the convex hull of ``points``, grown by ``dilate`` pixels."""
    mask = np.zeros(shape[:2], np.uint8)
    hull = cv2.convexHull(np.round(points).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 1)
    if dilate > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate + 1, 2 * dilate + 1))
        mask = cv2.dilate(mask, kernel)
    return mask.astype(bool)


def face_mask(landmarks: np.ndarray, shape: tuple[int, ...], *, dilate: int = 0) -> np.ndarray:
    """The hull of a face's mesh points as a bool mask, optionally dilated."""
    return hull_mask(landmarks[:468], shape, dilate=dilate)


def inner_face_mask(landmarks: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The central part of the face (the hull shrunk towards its centre by a quarter): skin,
    eyes, nose and mouth, with no hair or background whatever the mesh's edge does."""
    points = landmarks[:468]
    centre = points.mean(axis=0)
    return hull_mask(centre + (points - centre) * 0.75, shape)


def landmark_drift(a: np.ndarray, b: np.ndarray) -> float:
    """Mean distance between matching mesh points, relative to the face's size (box diagonal)."""
    size = float(np.hypot(*(a[:, :2].max(axis=0) - a[:, :2].min(axis=0))))
    return float(np.linalg.norm(a[:, :2] - b[:, :2], axis=1).mean()) / size


def canvas(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A face-free background: a smooth colour gradient with mild noise, RGB uint8."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([90 + 60 * xs / width, 110 + 40 * ys / height,
                     140 - 50 * xs / width], axis=-1)
    noisy = base + rng.normal(0, 4, size=(height, width, 3))
    return np.clip(noisy, 0, 255).astype(np.uint8)


def paste(scene: np.ndarray, patch: np.ndarray, x: int, y: int, scale: float = 1.0) -> Box:
    """Paste ``patch`` resized by ``scale`` into ``scene`` at (x, y), in place; returns the
    pasted rectangle, so a face box inside the patch maps with :func:`map_box`."""
    if scale != 1.0:
        patch = cv2.resize(patch, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    h, w = patch.shape[:2]
    scene[y:y + h, x:x + w] = patch
    return (float(x), float(y), float(x + w), float(y + h))


def map_box(box: Box, origin: tuple[float, float], scale: float) -> Box:
    """A box in a patch's pixels moved to where the patch was pasted at ``origin`` x ``scale``."""
    ox, oy = origin
    return (ox + box[0] * scale, oy + box[1] * scale, ox + box[2] * scale, oy + box[3] * scale)
