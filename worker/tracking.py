"""Faces followed through video frames: mesh tracking on a crop per face, One Euro smoothing, and
periodic re-detection that keeps each face's identity by box overlap."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence

import cv2
import numpy as np

from worker.analysis import (
    box_iou,
    create_face_detector,
    create_face_mesh,
    face_from_landmarks,
    mesh_results_to_pixels,
)
from worker.errors import NoFaceFound
from worker.types import Face, FaceSelection, Image

Box = tuple[float, float, float, float]
Detector = Callable[[Image], list[Face]]

# The mesh runs on a square crop this many face-sizes wide, resized to CROP_SIDE pixels: the
# face then has the same size in the crop whatever its size in the frame, so small faces in big
# frames stay trackable and big faces cost no more than small ones.
CROP_SCALE = 2.0
CROP_SIDE = 256
# Frames are shrunk to this longest side for the quick whole-frame detector.
QUICK_DETECT_SIDE = 640
# A tracked face re-acquires a detection when their boxes overlap this much.
MATCH_IOU = 0.3


class FrameView(Protocol):
    """A video frame as the tracker reads it: whole in RGB only for the (rare) full detection,
    otherwise only the parts it needs, so a pipeline holding frames in another pixel format
    (worker.video keeps YUV) converts little of each frame."""

    width: int
    height: int

    def rgb(self) -> Image:
        """The whole frame in RGB."""

    def region(self, x0: int, y0: int, x1: int, y1: int) -> Image:
        """The RGB pixels of this box (inside the frame)."""

    def shrunk(self, side: int) -> Image:
        """The whole frame in RGB, scaled down (INTER_AREA) to at most ``side`` on its longer
        side."""


class RgbFrame:
    """A frame held as an RGB array."""

    def __init__(self, image: Image):
        self.image = image
        self.height, self.width = image.shape[:2]

    def rgb(self) -> Image:
        return self.image

    def region(self, x0: int, y0: int, x1: int, y1: int) -> Image:
        return self.image[y0:y1, x0:x1]

    def shrunk(self, side: int) -> Image:
        scale = side / max(self.height, self.width)
        if scale >= 1:
            return self.image
        return cv2.resize(self.image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


class OneEuroFilter:
    """The One Euro filter (Casiez, Roussel and Vogel, CHI 2012) over an array of values.

    A low-pass filter whose cutoff rises with speed: strong smoothing removes jitter while a
    face holds still, and little smoothing keeps lag small while it moves. ``scale`` divides the
    speed before it raises the cutoff, so one ``beta`` suits faces of any size in pixels.
    """

    def __init__(self, *, min_cutoff: float = 1.0, beta: float = 3.0, d_cutoff: float = 1.0):
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.d_cutoff = d_cutoff
        self._value: np.ndarray | None = None
        self._speed: np.ndarray | None = None
        self._time = 0.0

    @staticmethod
    def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
        tau = 1.0 / (2.0 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    def __call__(self, value: np.ndarray, time: float, *, scale: float = 1.0) -> np.ndarray:
        value = np.asarray(value, dtype=np.float64)
        if self._value is None or time <= self._time:
            self._value = value.copy()
            self._speed = np.zeros_like(value)
            self._time = time
            return value.copy()
        dt = time - self._time
        speed = (value - self._value) / dt
        self._speed = self._speed + self._alpha(self.d_cutoff, dt) * (speed - self._speed)
        # The speed of a point is the length of its (x, y) velocity, in face sizes per second.
        magnitude = np.linalg.norm(self._speed, axis=-1, keepdims=True) / max(scale, 1e-6)
        alpha = self._alpha(self.min_cutoff + self.beta * magnitude, dt)
        self._value = self._value + alpha * (value - self._value)
        self._time = time
        return self._value.copy()


@dataclass(eq=False)
class Track:
    """One face followed over time. ``face`` is its smoothed position in the latest frame, or
    None when the face was not found there."""

    id: int
    last_box: Box
    face: Face | None = None
    misses: int = 0
    mesh: Any = None
    smoother: OneEuroFilter = field(default_factory=OneEuroFilter)


def _crop_transform(box: Box) -> np.ndarray:
    """The 2x3 affine taking frame pixels to a CROP_SIDE square centred on the box."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    side = max(box[2] - box[0], box[3] - box[1], 1.0) * CROP_SCALE
    scale = CROP_SIDE / side
    return np.array([[scale, 0.0, CROP_SIDE / 2 - scale * cx],
                     [0.0, scale, CROP_SIDE / 2 - scale * cy]], dtype=np.float64)


def _crop_source_box(transform: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """The frame pixels (x0, y0, x1, y1) that a CROP_SIDE crop through ``transform`` samples,
    bilinear neighbours included, clipped to the frame."""
    scale = transform[0, 0]
    low = -transform[:, 2] / scale
    high = (CROP_SIDE - transform[:, 2]) / scale
    x0 = int(np.clip(np.floor(low[0]) - 1, 0, width - 1))
    y0 = int(np.clip(np.floor(low[1]) - 1, 0, height - 1))
    x1 = int(np.clip(np.ceil(high[0]) + 2, x0 + 1, width))
    y1 = int(np.clip(np.ceil(high[1]) + 2, y0 + 1, height))
    return x0, y0, x1, y1


class FaceTracker:
    """Follows the faces of a video frame by frame.

    Each face is tracked by its own mediapipe FaceMesh in tracking mode on a crop around where
    it was, and its landmarks are smoothed by a One Euro filter. The full detector (the
    analyser's ``analyse``) runs now and then, and a quick one looks for faces between its runs
    (see ``_should_detect``); detections are matched to tracks by box overlap. ``selection`` follows
    ``SwapOptions.faces``: indices and "largest" refer to the faces of the first frame in which
    any face is found, and keep meaning the same people for the rest of the video.
    """

    def __init__(self, detect: Detector, selection: FaceSelection = "all", *,
                 redetect_every: int = 50, search_every: int = 10, watch_every: int = 3,
                 max_misses: int = 2, max_faces: int = 8, min_cutoff: float = 1.0,
                 beta: float = 3.0):
        self._detect = detect
        self._selection = selection
        self._redetect_every = redetect_every
        self._search_every = search_every
        self._watch_every = watch_every
        self._max_misses = max_misses
        self._max_faces = max_faces
        self._min_cutoff = min_cutoff
        self._beta = beta
        self._tracks: list[Track] = []
        self._selected: set[int] | None = None
        self._quick_detector: Any = None
        self._next_id = 0
        self._frames = 0
        self._since_detect = 0

    @property
    def has_found_faces(self) -> bool:
        """Whether a face has been found in any frame so far."""
        return self._selected is not None

    def update(self, frame: Image | FrameView, time: float) -> list[Face]:
        """The selected faces in this frame (an RGB image, or a view of a frame held in another
        format), with smoothed landmarks, in track order."""
        if isinstance(frame, np.ndarray):
            frame = RgbFrame(frame)
        for track in self._tracks:
            if track.misses <= self._max_misses:
                self._follow(track, frame, time)
            elif track.mesh is not None:
                track.mesh.close()
                track.mesh = None
        # A face lost for good is forgotten when any face will do; a chosen face stays known,
        # without a mesh, until a detection overlaps where it was last seen.
        if self._selection == "all":
            self._tracks = [t for t in self._tracks if t.misses <= self._max_misses]
        if self._should_detect(frame):
            self._redetect(frame, time)
        self._frames += 1
        self._since_detect += 1
        return [t.face for t in self._tracks if t.face is not None and self._is_selected(t)]

    def close(self) -> None:
        """Release the mediapipe graphs."""
        for track in self._tracks:
            if track.mesh is not None:
                track.mesh.close()
                track.mesh = None
        self._tracks = []
        if self._quick_detector is not None:
            self._quick_detector.close()
            self._quick_detector = None

    def _is_selected(self, track: Track) -> bool:
        if self._selection == "all":
            return True
        return self._selected is not None and track.id in self._selected

    def _should_detect(self, frame: FrameView) -> bool:
        """Whether to run the full detector (about 120 ms at 720p) on this frame.

        It runs on the first frame, and every ``search_every`` frames while a wanted face is
        missing. While every wanted face is followed it runs only when any face will do (to
        find newcomers), every ``redetect_every`` frames: then it cannot re-find a lost face, so
        for chosen faces it would change nothing. In between, the quick whole-frame detector (a
        few ms; it misses small faces) looks for a face that no track covers: every frame while
        a wanted face is missing, every ``watch_every`` frames for newcomers when any face
        will do. When it sees one, the full detector runs at once.
        """
        if self._frames == 0:
            return True
        live = [t for t in self._tracks if t.face is not None]
        if self._selection == "all":
            searching = not live
        else:
            searching = self._selected is None or any(t.face is None for t in self._tracks)
        if searching:
            return (self._since_detect >= self._search_every
                    or self._quick_finds_new_face(frame, live))
        if self._selection != "all":
            return False
        if self._since_detect >= self._redetect_every:
            return True
        if self._frames % self._watch_every == 0:
            return self._quick_finds_new_face(frame, live)
        return False

    def _quick_finds_new_face(self, frame: FrameView, live: list[Track]) -> bool:
        if self._quick_detector is None:
            self._quick_detector = create_face_detector(model_selection=1, min_score=0.6)
        width, height = frame.width, frame.height
        # The detector sees 192 px whatever it is given; shrinking big frames first saves
        # copying them into mediapipe.
        for detection in self._quick_detector.process(
                frame.shrunk(QUICK_DETECT_SIDE)).detections or ():
            box = detection.location_data.relative_bounding_box
            cx, cy = (box.xmin + box.width / 2) * width, (box.ymin + box.height / 2) * height
            if not any(t.last_box[0] <= cx <= t.last_box[2] and t.last_box[1] <= cy <= t.last_box[3]
                       for t in live):
                return True
        return False

    def _follow(self, track: Track, frame: FrameView, time: float) -> None:
        """Move a track to this frame by running its mesh on a crop around its last box."""
        transform = _crop_transform(track.last_box)
        # Only the pixels the crop samples are read (the frame may have to convert them);
        # outside the frame the crop is black either way.
        x0, y0, x1, y1 = _crop_source_box(transform, frame.width, frame.height)
        shifted = transform.copy()
        shifted[:, 2] += transform[:, :2] @ np.array([x0, y0], dtype=np.float64)
        crop = cv2.warpAffine(frame.region(x0, y0, x1, y1), shifted, (CROP_SIDE, CROP_SIDE),
                              flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        if track.mesh is None:
            track.mesh = create_face_mesh(static_image_mode=False, max_num_faces=1)
        found = mesh_results_to_pixels(track.mesh.process(crop), CROP_SIDE, CROP_SIDE)
        if not found:
            track.face = None
            track.misses += 1
            return
        inverse = cv2.invertAffineTransform(transform)
        points = found[0] @ inverse[:, :2].T.astype(np.float32) + inverse[:, 2].astype(np.float32)
        self._place(track, points, time)

    def _place(self, track: Track, points: np.ndarray, time: float) -> None:
        low, high = points.min(axis=0), points.max(axis=0)
        # The crop follows the raw mesh, which has no lag; the swap gets the smoothed one.
        track.last_box = (float(low[0]), float(low[1]), float(high[0]), float(high[1]))
        smoothed = track.smoother(points, time, scale=float((high - low).max()))
        track.face = face_from_landmarks(smoothed.astype(np.float32))
        track.misses = 0

    def _redetect(self, frame: FrameView, time: float) -> None:
        """Run the detector; match its faces to tracks by box overlap, start tracks for new ones."""
        self._since_detect = 0
        detected = self._detect(frame.rgb())
        unmatched = list(range(len(detected)))
        pairs = sorted(((box_iou(t.last_box, detected[i].box), n, i)
                        for n, t in enumerate(self._tracks) for i in unmatched), reverse=True)
        matched_tracks: set[int] = set()
        for iou, n, i in pairs:
            if iou < MATCH_IOU or n in matched_tracks or i not in unmatched:
                continue
            matched_tracks.add(n)
            unmatched.remove(i)
            track = self._tracks[n]
            if track.face is None:
                # A lost face found again: restart its mesh and its smoothing from here.
                if track.mesh is not None:
                    track.mesh.close()
                    track.mesh = None
                track.smoother = self._new_smoother()
                self._place(track, detected[i].landmarks, time)
        first = self._selected is None
        if not (first or self._selection == "all"):
            return
        new_tracks = []
        for i in unmatched:
            if len(self._tracks) + len(new_tracks) >= self._max_faces:
                break
            track = Track(id=self._next_id, last_box=detected[i].box, smoother=self._new_smoother())
            self._next_id += 1
            self._place(track, detected[i].landmarks, time)
            new_tracks.append(track)
        self._tracks += new_tracks
        if first and new_tracks:
            # The detector lists faces largest first, as the analyser does for still images.
            self._selected = self._resolve_selection([t.id for t in new_tracks])
            for track in self._tracks:
                if track.id not in self._selected and track.mesh is not None:
                    track.mesh.close()
            self._tracks = [t for t in self._tracks if t.id in self._selected]

    def _resolve_selection(self, ids: Sequence[int]) -> set[int]:
        if self._selection == "all":
            return set(ids)
        if self._selection == "largest":
            return set(ids[:1])
        chosen = {ids[i] for i in self._selection if 0 <= i < len(ids)}
        if not chosen:
            raise NoFaceFound("The faces chosen to swap were not found in the video.")
        return chosen

    def _new_smoother(self) -> OneEuroFilter:
        return OneEuroFilter(min_cutoff=self._min_cutoff, beta=self._beta)
