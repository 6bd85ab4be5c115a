"""Fixtures of the swap tests: users, a real avatar, and real uploads built from the astronaut."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.avatars.factories import AvatarFactory
from tests.factories import PASSWORD, UserFactory
from tests.worker.videoutil import moving_photo_frames, write_clip

VIDEO_TYPES = {"mp4": "libx264", "mov": "libx264", "webm": "libvpx-vp9", "mkv": "libx264"}


def encode_image(image: np.ndarray, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=fmt, **params)
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def client_in(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def other_client(client, other_user):
    client.login(username=other_user.username, password=PASSWORD)
    return client


@pytest.fixture
def avatar(user, mobius_avatar_a):
    """The Mobius avatar fixture saved as the user's avatar (a generated face: a real source)."""
    png = encode_image(mobius_avatar_a, "PNG")
    return AvatarFactory(owner=user, name="Mobius A", image=ContentFile(png, name="image.png"),
                         face_crop=ContentFile(png, name="face.png"))


@pytest.fixture(scope="session")
def astronaut_jpeg(astronaut) -> bytes:
    return encode_image(astronaut, "JPEG", quality=92)


@pytest.fixture(scope="session")
def clips(tmp_path_factory, astronaut) -> dict[str, Path]:
    """A 1-second 480x360 clip of the moving astronaut in each accepted container, with audio
    where the container takes AAC (Opus in WebM)."""
    folder = tmp_path_factory.mktemp("clips")
    frames = list(moving_photo_frames(astronaut, frames=12, size=(480, 360)))
    made = {}
    for extension, codec in VIDEO_TYPES.items():
        audio = "libopus" if extension == "webm" else "aac"
        made[extension] = write_clip(folder / f"clip.{extension}", frames, fps=12, audio=audio,
                                     codec=codec)
    return made
