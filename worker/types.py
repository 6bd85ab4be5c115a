"""Small value types shared by every engine backend."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Literal, Protocol, Sequence

import numpy as np

# An RGB uint8 image of shape (H, W, 3).
Image = np.ndarray

# progress(done, total): called by long operations; total may be 0 when unknown.
ProgressCallback = Callable[[int, int], None]
# cancelled() -> True asks the operation to stop at its next checkpoint (it raises errors.Cancelled).
CancelledCheck = Callable[[], bool]


def no_progress(done: int, total: int) -> None:
    """Default progress callback."""


def never_cancelled() -> bool:
    """Default cancellation check."""
    return False


@dataclass(frozen=True)
class Pose:
    """Head rotation in degrees: yaw (left/right), pitch (up/down), roll (tilt)."""

    yaw: float
    pitch: float
    roll: float


@dataclass(frozen=True, eq=False)
class Face:
    """One face found in an image, in that image's pixel coordinates.

    ``keypoints`` are the 5 ArcFace points in this order: left eye, right eye, nose tip,
    left mouth corner, right mouth corner ("left" as seen in the image), shape (5, 2).
    ``landmarks`` are the dense mesh points, shape (478, 2) for mediapipe (468 + 10 iris),
    or None for backends that have no mesh.
    """

    box: tuple[float, float, float, float]  # x0, y0, x1, y1
    score: float
    keypoints: np.ndarray
    landmarks: np.ndarray | None
    pose: Pose

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def area(self) -> float:
        return max(0.0, self.width) * max(0.0, self.height)


FaceSelection = Literal["all", "largest"] | Sequence[int]


@dataclass(frozen=True)
class SwapOptions:
    """What to replace and how.

    faces: "all", "largest", or indices into the list that ``analyse`` returned.
    feather: mask softness, 0 (hard edge) .. 1 (very soft).
    colour_match: 0 (keep the source's colours) .. 1 (fully match the target's skin).
    keep_audio: videos only.
    enhance: run the face enhancer where one is installed.
    watermark: stamp the visible "AI-made" mark on video frames (``worker.provenance``);
    image callers stamp it themselves when they save.
    """

    faces: FaceSelection = "all"
    feather: float = 0.5
    colour_match: float = 1.0
    keep_audio: bool = True
    enhance: bool = False
    watermark: bool = True


@dataclass(frozen=True, eq=False)
class SourceFace:
    """A prepared swap source: the avatar image and its analysed face.

    ``embedding`` is filled by backends that need an identity vector (inswapper).
    """

    image: Image
    face: Face
    embedding: np.ndarray | None = None


@dataclass(frozen=True)
class AttributeResult:
    """How one asked attribute came out: the value asked, the value measured, and whether it
    counts as honoured. ``measured`` is None where the backend cannot measure it."""

    asked: str
    measured: str | None
    honoured: bool


@dataclass(frozen=True, eq=False)
class GeneratedFace:
    """One generated avatar candidate."""

    image: Image  # the portrait, RGB, square
    face_crop: Image  # the aligned face, RGB, square
    seed: int
    backend: str
    version: str
    prompt: str = ""
    attributes: dict[str, AttributeResult] = field(default_factory=dict)


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    frames: int
    duration: float
    has_audio: bool
    rotation: int = 0


class Backend(Protocol):
    """What every backend class offers the registry."""

    name: str
    version: str

    @classmethod
    def available(cls) -> bool: ...
