"""The aligned square face crop every generator returns next to its portrait."""

from __future__ import annotations

import cv2
import numpy as np

from worker.types import Image

# ArcFace's 5-point template (insightface, 112 px): eye centres, nose tip, mouth corners.
ARCFACE_112 = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                        [41.5493, 92.3655], [70.7299, 92.2041]], np.float32)
FACE_CROP = 256
# The template shrunk to this share around its centre, so the brow, hair line and chin stay
# in the crop (ArcFace's own layout cuts them off).
CROP_ZOOM = 0.7


def aligned_crop(image: Image, keypoints: np.ndarray, size: int = FACE_CROP) -> Image:
    """The face warped by a similarity transform (fitted on the 5 keypoints) onto the shrunk
    ArcFace template; the border repeats the edge pixels where the crop leaves the image."""
    template = ((ARCFACE_112 / 112.0 - 0.5) * CROP_ZOOM + 0.5) * size
    matrix, _ = cv2.estimateAffinePartial2D(np.asarray(keypoints, np.float32), template,
                                            method=cv2.LMEDS)
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_AREA,
                          borderMode=cv2.BORDER_REPLICATE)
