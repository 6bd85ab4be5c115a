"""The classical face swapper: piecewise-affine mesh warp, LAB colour match, feathered blend."""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from worker.analysis import MESH_POINTS, MediapipeAnalyser, check_image
from worker.errors import FaceTooSmall, NoFaceFound
from worker.registry import register
from worker.types import Face, FaceSelection, Image, SourceFace, SwapOptions

# Closed loops of mesh points around the mesh's three holes. The tessellation leaves the eyes
# and the inner mouth open; fans from each loop's centre (an extra, virtual point) fill them so
# the source's eyes replace the target's, and its lips meet when the target's mouth is closed.
EYE_LOOP_IMAGE_LEFT = (33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144,
                       163, 7)
EYE_LOOP_IMAGE_RIGHT = (263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373,
                        390, 249)
INNER_LIP_LOOP = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87,
                  178, 88, 95)
UPPER_INNER_LIP, LOWER_INNER_LIP = 13, 14
FOREHEAD, CHIN = 10, 152
# The swap stops at mid-forehead (this mesh point): above it the mesh reaches the hairline, and
# the source's fringe pasted onto the target's forehead looked like stray strokes.
MID_FOREHEAD = 151
# Hair (or a hand, a hat) over the upper face: a pixel between mid-forehead and the eyes whose
# LAB colour lies further than this from the face's own cheek colour, in standard deviations
# (lightness counted at two thirds weight, for shading), is not skin...
NON_SKIN_DISTANCE = 3.0
# The least standard deviation (L, a, b) that distance assumes for the cheeks' colour.
SKIN_SPREAD_FLOOR = np.array([10.0, 5.0, 5.0], np.float32)
SKIN_SPREAD_CAP = np.array([12.0, 1e3, 1e3], np.float32)
# ... and counts as an occluder when it is connected to non-skin pixels this close (share of the
# forehead-to-chin height) below the mid-forehead cut, i.e. it comes down from the hairline.
# Brows alone are islands and stay part of the face.
HAIRLINE_BAND = 0.04
# Virtual points appended after the 478 mesh points: the centres of the loops above.
_LOOPS = (EYE_LOOP_IMAGE_LEFT, EYE_LOOP_IMAGE_RIGHT, INNER_LIP_LOOP)

# The target's mouth counts as open when its inner lips are further apart than this share of
# the forehead-to-chin height; then its inner mouth (teeth, tongue) is kept.
MOUTH_OPEN_RATIO = 0.02
# Sources are scaled so their face is at most this many pixels high: enough detail for any
# target face on a screen, and a 1024 px portrait warps at 512 px cost (FACTS.md).
SOURCE_FACE_SIZE = 512
DEFAULT_OPTIONS = SwapOptions()
# Warp maps are rasterised on a grid at most this many samples across, then upsampled.
RASTER_SIDE = 160
# A source face below this height (px) cannot give a usable swap.
MIN_SOURCE_FACE = 64


@lru_cache(maxsize=1)
def mesh_triangles() -> tuple[np.ndarray, np.ndarray]:
    """(triangles, mouth_triangles): vertex index triples of the mesh's tessellation plus the
    eye fans, and the inner-mouth fan, kept apart so it can be left out when the mouth opens."""
    import mediapipe as mp

    neighbours: dict[int, set[int]] = {}
    for a, b in mp.solutions.face_mesh.FACEMESH_TESSELATION:
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    # mediapipe lists the tessellation as edges; its triangles are the edge 3-cycles.
    faces = {tuple(sorted((a, b, c))) for a in neighbours for b in neighbours[a]
             for c in neighbours[a] & neighbours[b]}
    fans = []
    for offset, loop in enumerate(_LOOPS):
        centre = MESH_POINTS + offset
        fans.append([(loop[i], loop[(i + 1) % len(loop)], centre) for i in range(len(loop))])
    triangles = np.array(sorted(faces) + fans[0] + fans[1], dtype=np.int32)
    return triangles, np.array(fans[2], dtype=np.int32)


def with_loop_centres(landmarks: np.ndarray) -> np.ndarray:
    """The 478 mesh points followed by the centres of the eye and inner-lip loops."""
    points = np.asarray(landmarks, dtype=np.float32)[:, :2]
    centres = [points[list(loop)].mean(axis=0) for loop in _LOOPS]
    return np.vstack([points, np.array(centres, dtype=np.float32)])


def mouth_is_open(landmarks: np.ndarray) -> bool:
    gap = np.linalg.norm(landmarks[UPPER_INNER_LIP] - landmarks[LOWER_INNER_LIP])
    height = np.linalg.norm(landmarks[FOREHEAD] - landmarks[CHIN])
    return bool(gap > MOUTH_OPEN_RATIO * height)


def rasterise_warp(target: np.ndarray, source: np.ndarray, triangles: np.ndarray,
                   width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maps for one ``cv2.remap``: for every pixel of a ``width`` x ``height`` box covered by a
    target triangle, the matching point of the source triangle (barycentric, so piecewise
    affine). Returns map_x, map_y (float32, -1 where uncovered) and the covered mask (uint8).

    All triangles are rasterised at once in numpy: each triangle's bounding box is enumerated,
    the pixels inside it kept. That costs about twice the face's area and no Python loop.
    """
    tri_target = target[triangles].astype(np.float64)  # (T, 3, 2)
    tri_source = source[triangles].astype(np.float64)
    v0 = tri_target[:, 0]
    e1, e2 = tri_target[:, 1] - v0, tri_target[:, 2] - v0
    det = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    keep = np.abs(det) > 1e-6
    tri_target, tri_source, v0, e1, e2, det = (array[keep] for array in
                                               (tri_target, tri_source, v0, e1, e2, det))
    # Per triangle, everything is linear in the pixel (x, y): the barycentric weights l1, l2
    # and the source point. Twelve coefficients per triangle, one row each, gathered per pixel
    # only as needed (the source point only for pixels inside their triangle).
    a1, b1 = e2[:, 1] / det, -e2[:, 0] / det
    a2, b2 = -e1[:, 1] / det, e1[:, 0] / det
    c1 = -(a1 * v0[:, 0] + b1 * v0[:, 1])
    c2 = -(a2 * v0[:, 0] + b2 * v0[:, 1])
    s0 = tri_source[:, 0]
    d1, d2 = tri_source[:, 1] - s0, tri_source[:, 2] - s0
    coefficients = np.stack([
        a1, b1, c1, a2, b2, c2,
        a1 * d1[:, 0] + a2 * d2[:, 0], b1 * d1[:, 0] + b2 * d2[:, 0],
        s0[:, 0] + c1 * d1[:, 0] + c2 * d2[:, 0],
        a1 * d1[:, 1] + a2 * d2[:, 1], b1 * d1[:, 1] + b2 * d2[:, 1],
        s0[:, 1] + c1 * d1[:, 1] + c2 * d2[:, 1],
    ]).astype(np.float32)

    x0 = np.clip(np.floor(tri_target[..., 0].min(axis=1)), 0, width - 1).astype(np.int32)
    x1 = np.clip(np.ceil(tri_target[..., 0].max(axis=1)), 0, width - 1).astype(np.int32)
    y0 = np.clip(np.floor(tri_target[..., 1].min(axis=1)), 0, height - 1).astype(np.int32)
    y1 = np.clip(np.ceil(tri_target[..., 1].max(axis=1)), 0, height - 1).astype(np.int32)
    spans_x = x1 - x0 + 1
    counts = spans_x * (y1 - y0 + 1)
    owner = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
    local = np.arange(owner.size, dtype=np.int32) - np.repeat(np.cumsum(counts) - counts, counts)
    row, col = np.divmod(local, spans_x[owner])
    px = x0[owner] + col
    py = y0[owner] + row
    fx, fy = px.astype(np.float32), py.astype(np.float32)

    def linear(first: int, rows: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """coefficients[first] * x + coefficients[first + 1] * y + coefficients[first + 2],
        each taken at the pixels' triangles ``rows``."""
        out = coefficients[first].take(rows) * x
        out += coefficients[first + 1].take(rows) * y
        out += coefficients[first + 2].take(rows)
        return out

    l1 = linear(0, owner, fx, fy)
    l2 = linear(3, owner, fx, fy)
    inside = np.flatnonzero((l1 >= -1e-4) & (l2 >= -1e-4) & (l1 + l2 <= 1 + 1e-4))
    owner, fx, fy = owner[inside], fx[inside], fy[inside]
    pixels = py[inside] * width + px[inside]

    map_x = np.full((height, width), -1.0, np.float32)
    map_y = np.full((height, width), -1.0, np.float32)
    covered = np.zeros((height, width), np.uint8)
    map_x.reshape(-1)[pixels] = linear(6, owner, fx, fy)
    map_y.reshape(-1)[pixels] = linear(9, owner, fx, fy)
    covered.reshape(-1)[pixels] = 1
    return map_x, map_y, covered


def warp_maps(target: np.ndarray, source: np.ndarray, triangles: np.ndarray,
              width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``rasterise_warp`` for a box of any size: big boxes are rasterised on a coarser grid and
    the maps upsampled bilinearly. The maps are piecewise linear and continuous, so this moves
    them by a fraction of a pixel at triangle edges, for a fraction of the cost."""
    step = max(1, int(np.ceil(max(width, height) / RASTER_SIDE)))
    if step == 1:
        return rasterise_warp(target, source, triangles, width, height)
    small_w, small_h = -(-width // step), -(-height // step)
    # cv2.resize puts small pixel i at full-resolution (i + 0.5) * step - 0.5: sample there.
    small_target = (target + 0.5) / step - 0.5
    map_x, map_y, covered = rasterise_warp(small_target, source, triangles, small_w, small_h)
    size = (small_w * step, small_h * step)
    map_x = cv2.resize(map_x, size, interpolation=cv2.INTER_LINEAR)[:height, :width]
    map_y = cv2.resize(map_y, size, interpolation=cv2.INTER_LINEAR)[:height, :width]
    # Only where every neighbouring sample was covered are the upsampled maps all real points.
    full = cv2.resize(covered.astype(np.float32), size, interpolation=cv2.INTER_LINEAR)
    return map_x, map_y, (full[:height, :width] > 0.999).astype(np.uint8)


def to_lab(image: np.ndarray) -> np.ndarray:
    """An RGB uint8 image as float32 LAB (L 0..100)."""
    return cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def masked_stats(lab: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of a LAB image's channels under a mask."""
    mean, std = cv2.meanStdDev(lab, mask=mask.astype(np.uint8))
    return mean.ravel().astype(np.float32), np.maximum(std.ravel(), 1e-3).astype(np.float32)


def lab_stats(image: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of an RGB uint8 image's LAB channels under a mask."""
    return masked_stats(to_lab(image), mask)


def soft_occluders(lab: np.ndarray, points: np.ndarray, skin: tuple[np.ndarray, np.ndarray],
                   region: np.ndarray, size: float) -> np.ndarray:
    """Weights in 0..1 (float32, the image's shape): 1 where hair or anything else that is not
    skin comes down over the face between mid-forehead and the eyes, fading to 0 over a few
    pixels around it. Exactly 1 on the occluding pixels themselves, so a blend that multiplies
    by ``1 - weight`` leaves them untouched.

    Non-skin is a Mahalanobis-style distance (per channel) from the cheeks' LAB statistics
    ``skin``; of the non-skin pixels only those connected to the hairline cut count, so brows,
    which are islands in skin, are not mistaken for hair.
    """
    weights = np.zeros(lab.shape[:2], np.float32)
    up = points[FOREHEAD] - points[CHIN]
    up = up / (np.linalg.norm(up) or 1.0)
    top = points[MID_FOREHEAD]
    eyes = points[list(EYE_LOOP_IMAGE_LEFT + EYE_LOOP_IMAGE_RIGHT)]
    bottom = float(((eyes - top) @ up).max())  # the upper eyelids' highest point
    rows, cols = _pixel_grid(lab.shape)
    height = (cols - top[0]) * up[0] + (rows - top[1]) * up[1]
    band = (region > 0) & (height <= 0) & (height >= bottom)
    bx, by, bw, bh = cv2.boundingRect(band.view(np.uint8))
    if bw == 0 or bh == 0:
        return weights
    radius = max(1, round(0.02 * size))
    # Work on the band's box, grown by the softening radius.
    x0, y0 = max(0, bx - radius), max(0, by - radius)
    x1 = min(lab.shape[1], bx + bw + radius)
    y1 = min(lab.shape[0], by + bh + radius)
    part = (slice(y0, y1), slice(x0, x1))
    mean, std = skin
    # Floors on the spreads: a cheek patch can be evenly lit, while the forehead has highlights
    # (lighter and, being specular, less colourful) that are still skin.
    # Lightness spread is also capped: on a side-lit face it measures the lighting, and dark hair
    # differs from skin mostly in lightness.
    scale = np.clip(std, SKIN_SPREAD_FLOOR, SKIN_SPREAD_CAP) * np.array([1.5, 1.0, 1.0],
                                                                      np.float32)
    distance = np.square((lab[part] - mean) / scale).sum(axis=2)
    non_skin = (band[part] & (distance > NON_SKIN_DISTANCE ** 2)).view(np.uint8)
    count, labels = cv2.connectedComponents(non_skin, connectivity=8)
    if count <= 1:
        return weights
    seeds = non_skin.astype(bool) & (height[part] >= -HAIRLINE_BAND * size)
    hair = np.zeros(count, np.uint8)
    hair[np.unique(labels[seeds])] = 1
    hair[0] = 0
    occluding = hair[labels]
    if not occluding.any():
        return weights
    # Grow by a (2r+1) square, then a box blur of the same square: exactly 1 on every
    # occluding pixel (its whole window was grown), 0 beyond 2r.
    window = (2 * radius + 1, 2 * radius + 1)
    grown = cv2.dilate(occluding, np.ones(window, np.uint8)).astype(np.float32)
    weights[part] = np.minimum(cv2.blur(grown, window), 1.0)
    return weights


def colour_match(image: np.ndarray, source_stats: tuple[np.ndarray, np.ndarray],
                 target_stats: tuple[np.ndarray, np.ndarray], strength: float) -> np.ndarray:
    """Move an RGB uint8 image's colours from the source's skin statistics towards the
    target's, by ``strength`` 0..1; returns float32 RGB in 0..255.

    Lightness gets a Reinhard transfer (mean and damped spread). Chroma gets the skins' mean
    shift, weighted per pixel by its own chroma relative to the source skin's (capped at 1): skin
    and anything as colourful moves fully, near-neutral pixels (irises, brows, hair, nostrils,
    eye whites) barely, so they stay neutral. A plain Reinhard shift on a/b pushed a dark
    source's brows and irises blue, and scaling chroma instead blew up freckles and lips.
    """
    rgb = image.astype(np.float32)
    if strength <= 0:
        return rgb
    lab = cv2.cvtColor(rgb / 255.0, cv2.COLOR_RGB2LAB)
    (mean_s, std_s), (mean_t, std_t) = source_stats, target_stats
    # Damp the spread ratio: a flat-lit target would otherwise wash the source's features out.
    ratio = float(np.clip(std_t[0] / std_s[0], 0.6, 1.6))
    lightness = lab[..., 0]
    lightness += strength * ((lightness - mean_s[0]) * ratio + mean_t[0] - lightness)
    chroma = lab[..., 1:]
    skin_chroma = max(float(np.hypot(mean_s[1], mean_s[2])), 2.0)
    weight = cv2.magnitude(chroma[..., 0], chroma[..., 1])
    weight *= np.float32(1.0 / skin_chroma)
    np.minimum(weight, 1.0, out=weight)
    shift = (strength * (mean_t[1:] - mean_s[1:])).astype(np.float32)
    chroma += weight[..., None] * shift
    out = cv2.cvtColor(lab, cv2.COLOR_LAB2RGB) * 255.0
    return np.clip(out, 0, 255)


@dataclass(frozen=True, eq=False)
class PreparedSource:
    """What a swap needs from the source, computed once per source: the face crop (scaled, RGB
    plus a 4th channel: 255 where the face is visible, 0 where the source's hair covers it), its
    landmarks with loop centres in crop pixels, and its skin colour statistics."""

    crop: np.ndarray
    points: np.ndarray
    stats: tuple[np.ndarray, np.ndarray]


def prepare(source: SourceFace) -> PreparedSource:
    """The source's face crop at working size with its landmarks and colour statistics."""
    face = source.face
    if face.landmarks is None:
        raise ValueError("the landmark swapper needs a face with mesh landmarks")
    points = with_loop_centres(face.landmarks)
    height, width = source.image.shape[:2]
    margin = 0.1 * max(face.width, face.height)
    x0 = int(max(0, np.floor(face.box[0] - margin)))
    y0 = int(max(0, np.floor(face.box[1] - margin)))
    x1 = int(min(width, np.ceil(face.box[2] + margin)))
    y1 = int(min(height, np.ceil(face.box[3] + margin)))
    crop = source.image[y0:y1, x0:x1]
    points = points - np.array([x0, y0], dtype=np.float32)
    scale = min(1.0, SOURCE_FACE_SIZE / max(face.width, face.height))
    if scale < 1.0:
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        points = points * np.float32(scale)
    crop = np.ascontiguousarray(crop)
    skin = _skin_mask(points, crop.shape)
    lab = to_lab(crop)
    stats = masked_stats(lab, skin)
    hull = np.zeros(crop.shape[:2], np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(points[:468]).astype(np.int32)), 1)
    # The source's own fringe must not be pasted: its visibility rides along in a 4th channel,
    # so the one remap that warps the face also warps where its hair is.
    size = float(np.linalg.norm(points[FOREHEAD] - points[CHIN])) or 1.0
    visible = 1.0 - soft_occluders(lab, points, stats, hull, size)
    rgba = np.dstack([crop, np.rint(255.0 * visible).astype(np.uint8)])
    return PreparedSource(crop=rgba, points=points, stats=stats)


def _pixel_grid(shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Row and column numbers (float32) as a column and a row that broadcast to ``shape``:
    the values of ``np.indices`` without filling two whole planes."""
    return (np.arange(shape[0], dtype=np.float32)[:, None],
            np.arange(shape[1], dtype=np.float32)[None, :])


def _skin_mask(points: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Cheeks, nose and chin (the hull shrunk to 80%, below the eyes, mouth cut out): what colour
    statistics are measured on. Above the eyes, hair, glasses and brows skewed them."""
    mask = np.zeros(shape[:2], np.uint8)
    mesh = points[:468]
    centre = mesh.mean(axis=0)
    hull = cv2.convexHull(np.round(centre + (mesh - centre) * 0.8).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 1)
    ring = points[list(INNER_LIP_LOOP)]
    middle = ring.mean(axis=0)
    cv2.fillPoly(mask, [np.round(middle + (ring - middle) * 1.6).astype(np.int32)], 0)
    up = points[FOREHEAD] - points[CHIN]
    size = float(np.linalg.norm(up)) or 1.0
    up /= size
    eyes = points[list(EYE_LOOP_IMAGE_LEFT + EYE_LOOP_IMAGE_RIGHT)]
    # The lowest eyelid point along the face's up axis, less a margin for glasses' rims.
    limit = float(((eyes - points[CHIN]) @ up).min()) - 0.06 * size
    rows, cols = _pixel_grid(mask.shape)
    height = (cols - points[CHIN, 0]) * up[0] + (rows - points[CHIN, 1]) * up[1]
    mask[height > limit] = 0
    return mask


_prepared: weakref.WeakKeyDictionary[SourceFace, PreparedSource] = weakref.WeakKeyDictionary()
_prepared_lock = threading.Lock()


def prepared(source: SourceFace) -> PreparedSource:
    """The source's prepared form, computed once per SourceFace object."""
    with _prepared_lock:
        found = _prepared.get(source)
    if found is None:
        found = prepare(source)
        with _prepared_lock:
            _prepared[source] = found
    return found


def select_faces(faces: list[Face], selection: FaceSelection) -> list[Face]:
    """The faces that ``SwapOptions.faces`` asks for."""
    if not faces:
        return []
    if selection == "all":
        return list(faces)
    if selection == "largest":
        return [max(faces, key=lambda face: face.area)]
    if isinstance(selection, str):
        raise TypeError(f"unknown face selection {selection!r}")
    chosen = []
    for index in selection:
        if not 0 <= index < len(faces):
            raise ValueError(f"face {index} was asked for, but only {len(faces)} were found")
        chosen.append(faces[index])
    return chosen


def paste_face(frame: Image, face: Face, source: PreparedSource, options: SwapOptions) -> None:
    """Replace one face in ``frame`` in place; every step works on the face's box only."""
    if face.landmarks is None:
        raise ValueError("the landmark swapper needs target faces with mesh landmarks")
    frame_height, frame_width = frame.shape[:2]
    target = with_loop_centres(face.landmarks)
    size = float(np.linalg.norm(target[FOREHEAD] - target[CHIN])) or 1.0
    pad = int(np.ceil(0.05 * size)) + 2
    x0 = max(0, int(np.floor(target[:, 0].min())) - pad)
    y0 = max(0, int(np.floor(target[:, 1].min())) - pad)
    x1 = min(frame_width, int(np.ceil(target[:, 0].max())) + pad + 1)
    y1 = min(frame_height, int(np.ceil(target[:, 1].max())) + pad + 1)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return
    local = target - np.array([x0, y0], dtype=np.float32)
    box = frame[y0:y1, x0:x1]

    triangles, mouth_triangles = mesh_triangles()
    open_mouth = mouth_is_open(local)
    if not open_mouth:
        triangles = np.vstack([triangles, mouth_triangles])
    map_x, map_y, covered = warp_maps(local, source.points, triangles, x1 - x0, y1 - y0)
    alpha = _blend_mask(covered, local, open_mouth, size, options.feather)
    # Warp, colour and blend only where the mask lets the source through: above mid-forehead
    # and in the padding it is 0, and those pixels would come out unchanged anyway.
    ax, ay, aw, ah = cv2.boundingRect((alpha > 0).view(np.uint8))
    if aw == 0 or ah == 0:
        return
    inner = (slice(ay, ay + ah), slice(ax, ax + aw))
    warped = cv2.remap(source.crop, map_x[inner], map_y[inner], cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REPLICATE)
    # Where the source's hair covered its face, the target's own pixels stay.
    weight = alpha[inner] * warped[..., 3].astype(np.float32)
    weight *= np.float32(1.0 / 255.0)

    target_lab = to_lab(box)
    target_stats = masked_stats(target_lab, _skin_mask(local, box.shape))
    # And where the target's hair comes down over its forehead or brows, it stays in front.
    weight *= 1.0 - soft_occluders(target_lab, local, target_stats, covered, size)[inner]
    if options.colour_match > 0:
        face_pixels = colour_match(warped[..., :3], source.stats, target_stats,
                                   options.colour_match)
    else:
        face_pixels = warped[..., :3].astype(np.float32)

    target_pixels = box[inner]
    blended = target_pixels.astype(np.float32)
    blended += weight[..., None] * (face_pixels - blended)
    target_pixels[:] = np.clip(np.rint(blended), 0, 255).astype(np.uint8)


def _blend_mask(covered: np.ndarray, points: np.ndarray, open_mouth: bool, size: float,
                feather: float) -> np.ndarray:
    """Blend weights in 0..1: the warped area up to mid-forehead, shrunk and blurred so it
    fades out before the mesh's edge (nothing outside the face changes); with an open mouth,
    exactly 0 inside the inner lips, fading in over the lips, so the target's teeth stay."""
    feather = float(np.clip(feather, 0.0, 1.0))
    radius = max(1, round((0.01 + 0.07 * feather) * size))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    up = points[FOREHEAD] - points[CHIN]
    up /= np.linalg.norm(up) or 1.0
    rows, cols = _pixel_grid(covered.shape)
    height = (cols - points[MID_FOREHEAD, 0]) * up[0] + (rows - points[MID_FOREHEAD, 1]) * up[1]
    mask = cv2.erode(covered * (height <= 0), kernel)
    if open_mouth:
        mouth = np.zeros_like(covered)
        cv2.fillPoly(mouth, [np.round(points[list(INNER_LIP_LOOP)]).astype(np.int32)], 1)
        lip_radius = max(1, round(0.012 * size))
        lip_kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE,
                                               (2 * lip_radius + 1, 2 * lip_radius + 1))
        mask[cv2.dilate(mouth, lip_kernel) > 0] = 0
    alpha = mask.astype(np.float32)
    # A box blur of width 2r+1 spreads the eroded edge by at most r: alpha stays inside the
    # mesh hull, and (with the dilation above) outside the inner lips.
    alpha = cv2.blur(alpha, (2 * radius + 1, 2 * radius + 1))
    if open_mouth:
        alpha[mouth > 0] = 0.0
    return alpha


def swap_face(frame: Image, face: Face, source: SourceFace,
              options: SwapOptions = DEFAULT_OPTIONS) -> Image:
    """A copy of ``frame`` with one face (landmarks already known, e.g. from tracking) replaced."""
    out = frame.copy()
    paste_face(out, face, prepared(source), options)
    return out


@register("swap", "landmark", priority=10)
class LandmarkSwapper:
    """Classical swap with no learned swap model: works offline on any CPU, any licence."""

    name = "landmark"
    version = "landmark-1"
    # How far beyond a face's box (landmarks included), as a share of its larger side, a swap
    # may change pixels (``paste_face`` pads the box by 5% of the face's height, plus 3 px):
    # the video pipeline converts only that much of each frame to RGB and back.
    reach = 0.1

    def __init__(self) -> None:
        self._analyser = MediapipeAnalyser()

    @classmethod
    def available(cls) -> bool:
        return MediapipeAnalyser.available()

    def prepare_source(self, image: Image) -> SourceFace:
        """The avatar's largest face, ready to swap from."""
        check_image(image)
        faces = self._analyser.analyse(image)
        if not faces:
            raise NoFaceFound()
        face = faces[0]
        if min(face.width, face.height) < MIN_SOURCE_FACE:
            raise FaceTooSmall()
        source = SourceFace(image=np.ascontiguousarray(image), face=face)
        prepared(source)
        return source

    def swap(self, frame: Image, faces: list[Face], source: SourceFace,
             options: SwapOptions = DEFAULT_OPTIONS) -> Image:
        """A new frame with the selected faces replaced; ``frame`` is left as it was."""
        check_image(frame)
        out = frame.copy()
        ready = prepared(source)
        for face in select_faces(faces, options.faces):
            paste_face(out, face, ready, options)
        return out

    def swap_face(self, frame: Image, face: Face, source: SourceFace,
                  options: SwapOptions = DEFAULT_OPTIONS) -> Image:
        return swap_face(frame, face, source, options)
