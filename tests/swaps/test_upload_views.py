"""The upload page: every accepted type, every limit, the content check and every bad file."""

from __future__ import annotations

import struct
import tempfile
import zlib

import cv2
import numpy as np
import pytest
from django.urls import reverse
from PIL import Image

from swaps.models import MediaKind, Target
from tests.swaps.conftest import encode_image, upload
from tests.worker.videoutil import (
    moving_photo_frames,
    write_audio_only,
    write_clip,
    write_undecodable_video,
)

pytestmark = pytest.mark.django_db
URL = reverse("swaps:new")


def post(client, name: str, content: bytes, **extra):
    return client.post(URL, {"file": upload(name, content)}, **extra)


def assert_rejected(response, words: str) -> None:
    assert response.status_code in (400, 413)
    assert words in response.content.decode()
    assert not Target.objects.exists()


def test_upload_page_needs_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_upload_page_shows_the_form(client_in):
    response = client_in.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert 'hx-encoding="multipart/form-data"' in html
    assert "data-upload-progress" in html
    assert "swaps/upload.js" in html


@pytest.mark.parametrize("fmt, extension, content_type", [
    ("JPEG", "jpg", "image/jpeg"), ("PNG", "png", "image/png"), ("WEBP", "webp", "image/webp")])
def test_image_upload_finds_the_face(client_in, user, astronaut, fmt, extension, content_type):
    response = post(client_in, f"me.{extension}", encode_image(astronaut, fmt))
    target = Target.objects.get(owner=user)
    assert response.status_code == 302
    assert response["Location"] == reverse("swaps:target", args=[target.pk])
    assert target.kind == MediaKind.IMAGE
    assert target.content_type == content_type
    assert target.file.name.endswith(f"target.{extension}")
    assert (target.width, target.height) == (512, 512)
    assert len(target.faces) == 1
    x0, y0, x1, y1 = target.faces[0]["box"]
    # The astronaut's face sits in the upper middle of the photo.
    assert 150 < (x0 + x1) / 2 < 300 and 50 < (y0 + y1) / 2 < 200
    thumb = Image.open(target.file.storage.open(target.faces[0]["thumb"]))
    assert thumb.size[0] <= 160 and thumb.size[0] > 80
    assert target.thumbnail and target.expires_at > target.created_at


def test_image_upload_strips_metadata(client_in, user, astronaut):
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPS latitude
    response = post(client_in, "me.jpg", encode_image(astronaut, "JPEG", exif=exif.tobytes()))
    assert response.status_code == 302
    target = Target.objects.get(owner=user)
    stored = Image.open(target.file.storage.open(target.file.name))
    stored_exif = stored.getexif()
    assert 0x8825 not in stored_exif and stored_exif.get(0x010F) != "PhoneMaker"


def test_image_upload_keeps_orientation(client_in, user, astronaut):
    # Stored sideways with an EXIF "rotate 90" tag, as phones do: the target comes out upright.
    exif = Image.Exif()
    exif[0x0112] = 6
    sideways = np.ascontiguousarray(np.rot90(astronaut, k=1))
    response = post(client_in, "me.jpg", encode_image(sideways, "JPEG", exif=exif.tobytes()))
    assert response.status_code == 302
    target = Target.objects.get(owner=user)
    assert len(target.faces) == 1
    x0, y0, x1, y1 = target.faces[0]["box"]
    assert (y1 + y0) / 2 < 256  # the face is in the upper half: the photo is upright


@pytest.mark.parametrize("extension", ["mp4", "mov", "webm", "mkv"])
def test_video_upload_finds_the_face(client_in, user, clips, extension):
    response = post(client_in, f"clip.{extension}", clips[extension].read_bytes())
    target = Target.objects.get(owner=user)
    assert response.status_code == 302
    assert target.kind == MediaKind.VIDEO
    assert target.file.name.endswith(f"target.{extension}")
    assert (target.width, target.height) == (480, 360)
    assert target.duration == pytest.approx(1.0, abs=0.15)
    assert len(target.faces) == 1
    # Videos are kept as uploaded (the output is re-encoded by the pipeline).
    assert target.file.storage.open(target.file.name).read() == clips[extension].read_bytes()


def test_png_named_mp4_is_accepted_as_an_image(client_in, user, astronaut):
    response = post(client_in, "holiday.mp4", encode_image(astronaut, "PNG"))
    assert response.status_code == 302
    target = Target.objects.get(owner=user)
    assert target.kind == MediaKind.IMAGE and target.content_type == "image/png"


def test_text_named_jpg_is_refused(client_in):
    response = post(client_in, "me.jpg", b"not a photo at all\n" * 50)
    assert_rejected(response, "we go by what the file contains, not its name")


def test_browser_claim_is_ignored(client_in):
    fake = upload("me.jpg", b"<html>hello</html>" * 20, content_type="image/jpeg")
    response = client_in.post(URL, {"file": fake})
    assert_rejected(response, "not a photo or video we can use")


def test_truncated_jpeg_is_refused(client_in, astronaut_jpeg):
    response = post(client_in, "me.jpg", astronaut_jpeg[: len(astronaut_jpeg) // 3])
    assert_rejected(response, "damaged")


def test_corrupt_video_is_refused(client_in, clips):
    data = clips["mp4"].read_bytes()
    response = post(client_in, "clip.mp4", data[:64] + bytes(4000))
    assert_rejected(response, "damaged or is not a video we can read")


def test_unsupported_codec_is_refused(client_in, tmp_path, astronaut):
    path = write_undecodable_video(tmp_path / "odd.mp4",
                                   moving_photo_frames(astronaut, frames=5, size=(160, 120)))
    response = post(client_in, "odd.mp4", path.read_bytes())
    assert_rejected(response, "format we cannot decode")


def test_file_without_video_stream_is_refused(client_in, tmp_path):
    path = write_audio_only(tmp_path / "voice.m4a")
    response = post(client_in, "voice.mp4", path.read_bytes())
    assert_rejected(response, "no video track")


def test_photo_without_face_is_refused(client_in):
    from skimage import data

    response = post(client_in, "coffee.png", encode_image(data.coffee(), "PNG"))
    assert_rejected(response, "No face was found")


def test_photo_with_tiny_face_is_refused(client_in, astronaut):
    # The whole photo at 30%: the face is found but is under 40 pixels across.
    small = cv2.resize(astronaut, None, fx=0.3, fy=0.3, interpolation=cv2.INTER_AREA)
    canvas = np.full((400, 400, 3), 120, np.uint8)
    canvas[: small.shape[0], : small.shape[1]] = small
    response = post(client_in, "far.png", encode_image(canvas, "PNG"))
    assert_rejected(response, "too small to swap")


def test_video_without_face_is_refused(client_in, tmp_path):
    from skimage import data

    frames = moving_photo_frames(data.coffee(), frames=6, size=(320, 240))
    path = write_clip(tmp_path / "coffee.mp4", frames, fps=6, audio=None)
    response = post(client_in, "coffee.mp4", path.read_bytes())
    assert_rejected(response, "No face was found in the first")


# Limits ---------------------------------------------------------------------------------------

def test_image_over_the_byte_limit(client_in, settings, astronaut_jpeg):
    settings.SAFEFACE_MAX_IMAGE_BYTES = len(astronaut_jpeg) - 1
    assert_rejected(post(client_in, "me.jpg", astronaut_jpeg), "larger than the")


def test_image_over_the_pixel_limit(client_in, settings, astronaut_jpeg):
    settings.SAFEFACE_MAX_IMAGE_PIXELS = 512 * 512 - 1
    assert_rejected(post(client_in, "me.jpg", astronaut_jpeg), "megapixels")


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` pixels, with one tiny compressed row:
    the shape of a decompression bomb, without the memory."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(bytes(1 + 3 * 16))) + chunk(b"IEND", b""))


@pytest.mark.parametrize("side", [7_000, 50_000])
def test_decompression_bomb_is_refused_from_its_header(client_in, side):
    response = post(client_in, "bomb.png", png_claiming(side, side))
    assert_rejected(response, "megapixels we accept" if side > 10_000 else f"{side}x{side} pixels")


def test_video_over_the_byte_limit(client_in, settings, clips):
    data = clips["mp4"].read_bytes()
    settings.SAFEFACE_MAX_VIDEO_BYTES = len(data) - 1
    assert_rejected(post(client_in, "clip.mp4", data), "larger than the")


def test_video_over_the_duration_limit(client_in, settings, clips):
    settings.SAFEFACE_MAX_VIDEO_SECONDS = 0.5
    assert_rejected(post(client_in, "clip.mp4", clips["mp4"].read_bytes()), "we accept videos up to")


def test_video_over_the_size_limit(client_in, settings, clips):
    settings.SAFEFACE_MAX_VIDEO_SIDE = 479
    assert_rejected(post(client_in, "clip.mp4", clips["mp4"].read_bytes()), "pixels on the longer side")


def test_declared_oversized_body_is_refused_before_reading(client_in, settings, astronaut_jpeg):
    settings.SAFEFACE_MAX_IMAGE_BYTES = settings.SAFEFACE_MAX_VIDEO_BYTES = 10_000
    response = post(client_in, "me.jpg", astronaut_jpeg, CONTENT_LENGTH=str(10**10))
    assert response.status_code == 413
    assert "larger than the" in response.content.decode()


def test_upload_stream_is_stopped_at_the_limit(client_in, settings, astronaut_jpeg):
    # Declared within the slack, so only the streaming guard can catch it.
    settings.SAFEFACE_MAX_IMAGE_BYTES = settings.SAFEFACE_MAX_VIDEO_BYTES = len(astronaut_jpeg) - 5000
    response = post(client_in, "me.jpg", astronaut_jpeg)
    assert_rejected(response, "larger than the")
    assert response.status_code == 413


def test_rejected_upload_leaves_no_temporary_files(client_in, settings, monkeypatch, tmp_path,
                                                   astronaut):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    settings.FILE_UPLOAD_TEMP_DIR = str(scratch)
    from skimage import data

    big_no_face = encode_image(data.coffee(), "PNG")  # over 256 KB: streamed to a temp file
    assert len(big_no_face) > settings.FILE_UPLOAD_MAX_MEMORY_SIZE
    assert_rejected(post(client_in, "coffee.png", big_no_face), "No face was found")
    assert list(scratch.iterdir()) == []


# htmx -----------------------------------------------------------------------------------------

def test_htmx_upload_redirects_the_client(client_in, user, astronaut_jpeg):
    response = post(client_in, "me.jpg", astronaut_jpeg, HTTP_HX_REQUEST="true")
    target = Target.objects.get(owner=user)
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("swaps:target", args=[target.pk])


def test_htmx_upload_error_returns_only_the_form(client_in):
    response = post(client_in, "me.jpg", b"text" * 100, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200  # htmx swaps only 2xx responses in
    assert html.lstrip().startswith("<form")
    assert "<html" not in html and "not a photo or video we can use" in html
