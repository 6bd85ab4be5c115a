"""Reading untrusted image files safely into RGB arrays; writing outputs with provenance only."""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np
from PIL import Image as PILImage
from PIL import ImageOps, PngImagePlugin

from worker import provenance
from worker.errors import CorruptImage, ImageTooLarge
from worker.types import Image

ImageKind = Literal["jpeg", "png", "webp"]
FORMATS = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp"}
MAX_PIXELS = 40_000_000

# EXIF tags written on JPEG and WebP outputs.
_EXIF_IMAGE_DESCRIPTION = 0x010E
_EXIF_SOFTWARE = 0x0131

Source = str | Path | bytes | BinaryIO


def image_kind(source: Source) -> ImageKind | None:
    """"jpeg", "png" or "webp" from the file's first bytes (never its name); None otherwise."""
    head = _head(source, 12)
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def _head(source: Source, count: int) -> bytes:
    if isinstance(source, bytes):
        return source[:count]
    if isinstance(source, (str, Path)):
        with open(source, "rb") as handle:
            return handle.read(count)
    position = source.tell()
    head = source.read(count)
    source.seek(position)
    return head


def load_image(source: Source, *, max_pixels: int = MAX_PIXELS) -> Image:
    """An RGB uint8 array from a JPEG, PNG or WebP file (path, bytes or binary file).

    The size is checked from the header before any pixel is decoded (ImageTooLarge), the EXIF
    orientation is applied, transparency is flattened onto white, and anything truncated,
    damaged or of another format raises CorruptImage.
    """
    if image_kind(source) is None:
        raise CorruptImage()
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        with warnings.catch_warnings():
            # Our own limit applies below; Pillow's bomb warning would only duplicate it.
            warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
            with PILImage.open(stream) as picture:
                if picture.format not in FORMATS:
                    raise CorruptImage()
                width, height = picture.size
                if width * height > max_pixels:
                    raise ImageTooLarge(
                        f"This image is too large to process ({width}x{height} pixels; "
                        f"the limit is {max_pixels // 1_000_000} megapixels)."
                    )
                picture.load()
                return _to_rgb(ImageOps.exif_transpose(picture))
    except PILImage.DecompressionBombError as error:
        raise ImageTooLarge() from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        # Pillow reports truncated and malformed files with these.
        raise CorruptImage() from error


def _to_rgb(picture: PILImage.Image) -> Image:
    has_alpha = picture.mode in ("RGBA", "LA", "PA") or (
        picture.mode == "P" and "transparency" in picture.info
    )
    if has_alpha:
        rgba = picture.convert("RGBA")
        flat = PILImage.new("RGBA", rgba.size, (255, 255, 255, 255))
        flat.alpha_composite(rgba)
        picture = flat
    return np.ascontiguousarray(np.asarray(picture.convert("RGB"), dtype=np.uint8))


def save_image(
    path: str | Path,
    image: Image,
    *,
    format: ImageKind,
    engine: str = "",
    source_type: str = provenance.COMPOSITE,
    quality: int = 92,
) -> Path:
    """Write ``image`` with no metadata but SafeFace's own provenance statement.

    The file is built from the pixels alone, so nothing of an upload's metadata (EXIF, GPS,
    camera, ICC) can leak into it. PNG gets text chunks and XMP; JPEG and WebP get EXIF
    ImageDescription and Software plus XMP (JPEG also a comment).
    """
    if format not in ("jpeg", "png", "webp"):
        raise ValueError(f"unsupported format {format!r}")
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        raise ValueError("expected an RGB uint8 image of shape (H, W, 3)")
    picture = PILImage.fromarray(array, "RGB")
    statement = provenance.description(engine)
    xmp = provenance.xmp_packet(engine, source_type)
    path = Path(path)
    if format == "png":
        info = PngImagePlugin.PngInfo()
        info.add_text("Description", statement)
        info.add_text("Software", "SafeFace")
        info.add_itxt("XML:com.adobe.xmp", xmp.decode("utf-8"))
        picture.save(path, "PNG", pnginfo=info, optimize=False)
        return path
    exif = PILImage.Exif()
    exif[_EXIF_IMAGE_DESCRIPTION] = statement
    exif[_EXIF_SOFTWARE] = "SafeFace"
    if format == "jpeg":
        picture.save(path, "JPEG", quality=quality, exif=exif.tobytes(), xmp=xmp,
                     comment=statement.encode("utf-8"))
    else:
        picture.save(path, "WEBP", quality=quality, exif=exif.tobytes(), xmp=xmp)
    return path
