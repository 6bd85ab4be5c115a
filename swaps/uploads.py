"""What an upload really is, read from its first bytes, and the upload-size guard for the view."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

from swaps.models import MediaKind

# How many leading bytes `sniff` needs to tell every accepted format apart.
SNIFF_BYTES = 64

ACCEPTED_TEXT = "JPEG, PNG or WebP photos, and MP4, MOV, WebM or MKV videos"


@dataclass(frozen=True)
class FileType:
    kind: str  # MediaKind value
    extension: str
    content_type: str


JPEG = FileType(MediaKind.IMAGE, "jpg", "image/jpeg")
PNG = FileType(MediaKind.IMAGE, "png", "image/png")
WEBP = FileType(MediaKind.IMAGE, "webp", "image/webp")
MP4 = FileType(MediaKind.VIDEO, "mp4", "video/mp4")
MOV = FileType(MediaKind.VIDEO, "mov", "video/quicktime")
WEBM = FileType(MediaKind.VIDEO, "webm", "video/webm")
MKV = FileType(MediaKind.VIDEO, "mkv", "video/x-matroska")

# Old QuickTime files may open with one of these atoms instead of "ftyp".
_QUICKTIME_ATOMS = (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")


def sniff(head: bytes) -> FileType | None:
    """The file's type from its leading bytes (its name and the browser's claim are ignored)."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp":
        return MOV if head[8:12] == b"qt  " else MP4
    if head[4:8] in _QUICKTIME_ATOMS:
        return MOV
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        # The EBML header names its DocType near the start: "webm" or "matroska".
        return WEBM if b"webm" in head[:SNIFF_BYTES] else MKV
    return None


def max_upload_bytes() -> int:
    """The largest upload of any kind; a bigger request is refused before it is read."""
    return max(settings.SAFEFACE_MAX_IMAGE_BYTES, settings.SAFEFACE_MAX_VIDEO_BYTES)


def too_large_message(limit: int) -> str:
    return f"This file is larger than the {limit / (1024 * 1024):.0f} MB we accept."


class SizeLimitHandler(FileUploadHandler):
    """Stops reading an upload as soon as it passes the largest size we accept.

    Installed first by the upload view, which has already refused a body whose declared
    Content-Length is too large; this running count covers requests that declare none, so an
    oversized body never fills the disk. ``rejected`` holds the user-facing reason, if any.
    """

    def __init__(self, request=None) -> None:
        super().__init__(request)
        self.limit = max_upload_bytes()
        self.received = 0
        self.rejected: str | None = None

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.rejected = too_large_message(self.limit)
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int):
        return None
