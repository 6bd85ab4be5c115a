"""inswapper_128 (insightface) on onnxruntime: the production swapper, a learned identity swap.

The target face is aligned to the 5-point ArcFace template at 128 px, swapped towards the
source's ArcFace embedding (through the model's ``emap``), and pasted back through the inverse
affine with a feathered box mask, FaceFusion style, on the face's box only. The target's inner
mouth is kept when it is open. Licence: insightface's models are for non-commercial research.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np

from worker import config, registry
from worker.analysis import box_iou, check_image
from worker.errors import FaceTooSmall, NoFaceFound
from worker.registry import register
from worker.swap.landmark import (
    INNER_LIP_LOOP,
    MIN_SOURCE_FACE,
    colour_match,
    lab_stats,
    mouth_is_open,
    select_faces,
)
from worker.types import Face, Image, SourceFace, SwapOptions

SWAPPER_FILE = "inswapper_128.onnx"
RECOGNITION_FILE = "buffalo_l/w600k_r50.onnx"
DETECTION_FILE = "buffalo_l/det_10g.onnx"
DEFAULT_OPTIONS = SwapOptions()


def providers() -> list[str]:
    """onnxruntime's CUDA provider when this build has it, with the CPU as the fallback."""
    import onnxruntime

    available = onnxruntime.get_available_providers()
    return [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]


def box_mask(size: int, feather: float) -> np.ndarray:
    """A square float mask in 0..1: ones in the middle, fading to exactly 0 at the border
    (FaceFusion's box mask); ``feather`` 0..1 widens the fade."""
    blur = max(1, int(size * (0.05 + 0.25 * float(np.clip(feather, 0.0, 1.0)))))
    border = max(blur // 2, 1)
    mask = np.zeros((size, size), np.float32)
    mask[border:size - border, border:size - border] = 1.0
    mask = cv2.GaussianBlur(mask, (0, 0), blur * 0.25)
    # The blur leaks a little past the border; clear it so nothing outside the crop changes.
    mask[:1, :] = mask[-1:, :] = 0.0
    mask[:, :1] = mask[:, -1:] = 0.0
    return mask


def paste_back(frame: Image, crop: np.ndarray, mask: np.ndarray, matrix: np.ndarray) -> None:
    """Blend ``crop`` (aligned by ``matrix``, frame -> crop) into ``frame`` in place, through the
    inverse affine and only over the box the crop covers."""
    size = crop.shape[0]
    inverse = cv2.invertAffineTransform(matrix)
    corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], np.float32)
    mapped = corners @ inverse.T
    height, width = frame.shape[:2]
    x0, y0 = np.maximum(np.floor(mapped.min(axis=0)).astype(int) - 1, 0)
    x1 = min(width, int(np.ceil(mapped[:, 0].max())) + 2)
    y1 = min(height, int(np.ceil(mapped[:, 1].max())) + 2)
    if x1 <= x0 or y1 <= y0:
        return
    local = inverse.copy()
    local[:, 2] -= (x0, y0)
    box_size = (x1 - x0, y1 - y0)
    warped = cv2.warpAffine(crop.astype(np.float32), local, box_size, flags=cv2.INTER_LINEAR,
                            borderValue=0.0)
    alpha = cv2.warpAffine(mask, local, box_size, flags=cv2.INTER_LINEAR, borderValue=0.0)
    box = frame[y0:y1, x0:x1].astype(np.float32)
    box += alpha[..., None] * (warped - box)
    frame[y0:y1, x0:x1] = np.clip(np.rint(box), 0, 255).astype(np.uint8)


@register("swap", "inswapper", priority=20)
class InswapperSwapper:
    """The learned swapper. Faces come from the mediapipe analysis; buffalo_l's SCRFD detector,
    when installed, refines their 5 keypoints to the ones inswapper was trained with."""

    name = "inswapper"
    version = "inswapper_128"

    def __init__(self, *, models_dir: Path | None = None) -> None:
        from insightface.model_zoo import get_model

        root = models_dir or config.models_dir()
        chosen = providers()
        self.swapper = get_model(str(root / SWAPPER_FILE), providers=chosen)
        self.recogniser = get_model(str(root / RECOGNITION_FILE), providers=chosen)
        self.detector = None
        if (root / DETECTION_FILE).is_file():
            self.detector = get_model(str(root / DETECTION_FILE), providers=chosen)
            self.detector.prepare(0, input_size=(640, 640), det_thresh=0.5)
        self.size = int(self.swapper.input_size[0])

    @classmethod
    def available(cls) -> bool:
        root = config.models_dir()
        files = all((root / name).is_file() for name in (SWAPPER_FILE, RECOGNITION_FILE))
        return files and all(
            importlib.util.find_spec(module) for module in ("insightface", "onnxruntime"))

    def keypoints(self, image: Image, face: Face) -> np.ndarray:
        """The face's 5 keypoints: SCRFD's on a crop around the face where the detector is
        installed and finds it, else the analysis' own."""
        if self.detector is None:
            return np.asarray(face.keypoints, np.float32)
        x0, y0, x1, y1 = face.box
        pad = 0.5 * max(face.width, face.height)
        height, width = image.shape[:2]
        cx0, cy0 = int(max(0, x0 - pad)), int(max(0, y0 - pad))
        cx1, cy1 = int(min(width, x1 + pad)), int(min(height, y1 + pad))
        crop = np.ascontiguousarray(image[cy0:cy1, cx0:cx1, ::-1])
        boxes, points = self.detector.detect(crop, input_size=(640, 640))
        best, best_iou = None, 0.3
        for found, kps in zip(boxes, points if points is not None else [], strict=False):
            iou = box_iou(face.box, (found[0] + cx0, found[1] + cy0, found[2] + cx0,
                                     found[3] + cy0))
            if iou > best_iou:
                best, best_iou = kps + (cx0, cy0), iou
        return np.asarray(face.keypoints if best is None else best, np.float32)

    def prepare_source(self, image: Image) -> SourceFace:
        """The avatar's largest face with its unit-length ArcFace embedding."""
        from insightface.utils import face_align

        check_image(image)
        faces = registry.get("analyse").analyse(image)
        if not faces:
            raise NoFaceFound()
        face = faces[0]
        if min(face.width, face.height) < MIN_SOURCE_FACE:
            raise FaceTooSmall()
        aligned = face_align.norm_crop(np.ascontiguousarray(image[..., ::-1]),
                                       self.keypoints(image, face),
                                       image_size=self.recogniser.input_size[0])
        embedding = self.recogniser.get_feat(aligned).ravel().astype(np.float32)
        embedding /= max(float(np.linalg.norm(embedding)), 1e-12)
        return SourceFace(image=np.ascontiguousarray(image), face=face, embedding=embedding)

    def latent(self, source: SourceFace) -> np.ndarray:
        """The swap model's source input: the embedding through ``emap``, unit length."""
        if source.embedding is None:
            raise ValueError("this source was not prepared by the inswapper engine")
        latent = source.embedding.reshape(1, -1) @ self.swapper.emap
        return (latent / max(float(np.linalg.norm(latent)), 1e-12)).astype(np.float32)

    def swap(self, frame: Image, faces: list[Face], source: SourceFace,
             options: SwapOptions = DEFAULT_OPTIONS) -> Image:
        """A new frame with the selected faces replaced; ``frame`` is left as it was."""
        check_image(frame)
        out = frame.copy()
        latent = self.latent(source)
        for face in select_faces(faces, options.faces):
            self._paste(out, face, latent, options)
        return out

    def swap_face(self, frame: Image, face: Face, source: SourceFace,
                  options: SwapOptions = DEFAULT_OPTIONS) -> Image:
        """A copy of ``frame`` with one face (known already, e.g. from tracking) replaced."""
        out = frame.copy()
        self._paste(out, face, self.latent(source), options)
        return out

    def _paste(self, frame: Image, face: Face, latent: np.ndarray, options: SwapOptions) -> None:
        from insightface.utils import face_align

        keypoints = self.keypoints(frame, face)
        aligned, matrix = face_align.norm_crop2(frame, keypoints, self.size)
        blob = aligned.transpose(2, 0, 1)[None].astype(np.float32) / 255.0
        swapper = self.swapper
        result = swapper.session.run(swapper.output_names, {
            swapper.input_names[0]: blob, swapper.input_names[1]: latent})[0]
        swapped = np.clip(result[0].transpose(1, 2, 0) * 255.0, 0, 255).astype(np.uint8)

        mask = box_mask(self.size, options.feather)
        if options.colour_match > 0:
            inside = (mask > 0.5).astype(np.uint8)
            swapped = np.clip(colour_match(swapped, lab_stats(swapped, inside),
                                           lab_stats(aligned, inside), options.colour_match),
                              0, 255).astype(np.uint8)
        if face.landmarks is not None and mouth_is_open(face.landmarks):
            mask = _without_mouth(mask, face.landmarks, matrix)
        paste_back(frame, swapped, mask, matrix)
        if options.enhance and registry.is_available("enhance", "gfpgan"):
            registry.get("enhance", "gfpgan").enhance_in_place(frame, keypoints)


def _without_mouth(mask: np.ndarray, landmarks: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """The mask with the target's open inner mouth cut out (softly), so its teeth stay."""
    lips = cv2.transform(landmarks[list(INNER_LIP_LOOP)][None].astype(np.float32), matrix)[0]
    mouth = np.zeros_like(mask)
    cv2.fillPoly(mouth, [np.round(lips).astype(np.int32)], 1.0)
    size = mask.shape[0]
    mouth = cv2.GaussianBlur(cv2.dilate(mouth, np.ones((3, 3), np.uint8)), (0, 0), size / 96)
    return mask * (1.0 - np.clip(mouth * 1.5, 0.0, 1.0))
