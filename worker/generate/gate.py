"""The face gate every generated avatar passes: exactly one frontal, large, open-eyed face of
an adult. Generators call ``check_face`` on each candidate and ``resample`` to retry seeds."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable, TypeVar

import numpy as np

from worker import api
from worker.errors import Cancelled, GenerationFailed
from worker.generate import measure
from worker.types import CancelledCheck, Face, Image, never_cancelled

T = TypeVar("T")

# Eyelid landmarks (mediapipe mesh): upper and lower lid mid-points and the eye corners.
_EYES = ((159, 145, 33, 133), (386, 374, 263, 362))


@dataclass(frozen=True)
class GateLimits:
    """What a usable avatar face must be.

    ``min_age`` is a margin over 18: the age model errs by several years either way, and
    SafeFace makes no faces of minors."""

    # Pitch reads near 0 on frontal faces (median +1 over 555 generated adults; 5th-95th
    # percentile -15 to +22), so it gets the same limit as yaw.
    max_yaw: float = 25.0
    max_pitch: float = 25.0
    min_face_share: float = 0.2  # face box width over image width
    min_face_px: int = 128
    min_eye_openness: float = 0.12  # lid gap over eye width
    min_eye_contrast: float = 12.0  # L* between sclera and iris: sunglasses or hair make it flat
    min_age: int = 21


DEFAULT_LIMITS = GateLimits()


class Rejected(GenerationFailed):
    """One candidate failed the gate; ``reason`` says why in a few words."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"The generated face was rejected: {reason}.")


@dataclass(frozen=True, eq=False)
class GateResult:
    """A face that passed, with the age and gender the gate measured (callers record them)."""

    face: Face
    age: int
    gender: str  # the model's label: "female" or "male"
    gender_confidence: int

    @property
    def estimate(self) -> measure.AgeGender:
        return measure.AgeGender(self.age, self.gender, self.gender_confidence)


def eye_openness(landmarks: np.ndarray) -> float:
    """The smaller of the two eyes' lid gap over eye width."""
    ratios = []
    for upper, lower, corner_a, corner_b in _EYES:
        width = float(np.linalg.norm(landmarks[corner_a] - landmarks[corner_b]))
        ratios.append(float(np.linalg.norm(landmarks[upper] - landmarks[lower])) / max(width, 1e-6))
    return min(ratios)


def eye_contrast(image: Image, landmarks: np.ndarray) -> float:
    """L* of the sclera minus L* of the iris ring: an eye that shows its white is visible."""
    sclera = measure.sclera_colour(image, landmarks)
    iris = measure.iris_lab(image, landmarks)
    if sclera is None or iris is None:
        return 0.0
    return float(measure.linear_to_lab(sclera)[0] - iris[0])


def check_face(image: Image, *, limits: GateLimits = DEFAULT_LIMITS,
               faces: list[Face] | None = None) -> GateResult:
    """The one usable adult face in ``image``, or ``Rejected`` with the reason.

    ``faces`` may pass an analysis already made of this image."""
    if faces is None:
        faces = api.analyse(image)
    if not faces:
        raise Rejected("no face found")
    if len(faces) > 1:
        raise Rejected(f"{len(faces)} faces instead of one")
    face = faces[0]
    if abs(face.pose.yaw) > limits.max_yaw or abs(face.pose.pitch) > limits.max_pitch:
        raise Rejected(f"face turned away (yaw {face.pose.yaw:.0f}, pitch {face.pose.pitch:.0f})")
    if face.width < limits.min_face_px or face.width < limits.min_face_share * image.shape[1]:
        raise Rejected(f"face too small ({face.width:.0f} px wide)")
    if face.landmarks is None:
        raise Rejected("face has no landmarks")
    if eye_openness(face.landmarks) < limits.min_eye_openness:
        raise Rejected("eyes closed")
    if eye_contrast(image, face.landmarks) < limits.min_eye_contrast:
        raise Rejected("eyes hidden")
    estimate = measure.age_gender(image, face.box)
    if estimate is None:
        raise Rejected("age could not be estimated")
    if estimate.age < limits.min_age:
        raise Rejected(f"face looks under {limits.min_age} (estimated age {estimate.age})")
    return GateResult(face=face, age=estimate.age, gender=estimate.gender,
                      gender_confidence=estimate.confidence)


def resample(attempt: Callable[[int], T], seed: int, *, tries: int = 10,
             cancelled: CancelledCheck = never_cancelled) -> T:
    """``attempt(seed)``, then ``attempt(seed + 1)`` ... while it raises ``Rejected``; after
    ``tries`` rejections, ``GenerationFailed`` naming the commonest reasons."""
    reasons: Counter[str] = Counter()
    for offset in range(tries):
        if cancelled():
            raise Cancelled()
        try:
            return attempt(seed + offset)
        except Rejected as rejection:
            reasons[rejection.reason.split(" (")[0]] += 1
    common = ", ".join(f"{reason} ({count}x)" for reason, count in reasons.most_common(3))
    raise GenerationFailed(
        f"The generator could not make a usable face in {tries} tries ({common}). "
        "Try another seed, or leave some attributes on Any.")
