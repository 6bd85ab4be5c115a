"""GFPGAN v1.4 (ONNX) face restoration after a swap: optional, used only where its file is
installed. The face is aligned to the FFHQ 5-point layout at 512 px, restored, and pasted back
through the inverse affine with the swapper's feathered box mask."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np

from worker import config
from worker.registry import register
from worker.swap.inswapper import box_mask, paste_back, providers
from worker.types import Image

GFPGAN_FILE = "gfpgan_1.4.onnx"

# Where the eyes, nose tip and mouth corners sit in a 512 px FFHQ-aligned face (as GFPGAN was
# trained), as shares of the side.
FFHQ_TEMPLATE = np.array(
    [[0.37691676, 0.46864664], [0.62285697, 0.46912813], [0.50123859, 0.61331904],
     [0.39308822, 0.72541100], [0.61150205, 0.72490465]], np.float32)


@register("enhance", "gfpgan", priority=10)
class GfpganEnhancer:
    name = "gfpgan"
    version = "gfpgan-1.4"

    def __init__(self, *, models_dir: Path | None = None) -> None:
        import onnxruntime

        path = (models_dir or config.models_dir()) / GFPGAN_FILE
        self.session = onnxruntime.InferenceSession(str(path), providers=providers())
        model_input = self.session.get_inputs()[0]
        self.input_name = model_input.name
        self.size = int(model_input.shape[2]) if isinstance(model_input.shape[2], int) else 512

    @classmethod
    def available(cls) -> bool:
        return (config.models_dir() / GFPGAN_FILE).is_file() and bool(
            importlib.util.find_spec("onnxruntime"))

    def enhance(self, frame: Image, keypoints: np.ndarray, *, feather: float = 0.5) -> Image:
        """A copy of ``frame`` with the face at these 5 keypoints restored."""
        out = frame.copy()
        self.enhance_in_place(out, keypoints, feather=feather)
        return out

    def enhance_in_place(self, frame: Image, keypoints: np.ndarray, *,
                         feather: float = 0.5) -> None:
        matrix, _ = cv2.estimateAffinePartial2D(
            np.asarray(keypoints, np.float32), FFHQ_TEMPLATE * self.size, method=cv2.LMEDS)
        aligned = cv2.warpAffine(frame, matrix, (self.size, self.size),
                                 flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        blob = (aligned.transpose(2, 0, 1)[None].astype(np.float32) / 127.5) - 1.0
        restored = self.session.run(None, {self.input_name: blob})[0][0]
        face = np.clip((restored.transpose(1, 2, 0) + 1.0) * 127.5, 0, 255).astype(np.uint8)
        paste_back(frame, face, box_mask(self.size, feather), matrix)
