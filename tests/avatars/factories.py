"""factory_boy factories for avatars, generations and candidates, with real PNG files."""

import io

import factory
import numpy as np
from django.core.files.base import ContentFile
from PIL import Image

from avatars.models import Avatar, Candidate, Generation
from jobs.models import Job
from tests.factories import JobFactory, UserFactory
from worker.attributes import blank


def png_file(size: int = 64, colour: tuple[int, int, int] = (180, 140, 120)) -> ContentFile:
    """A small real PNG: a vertical gradient over a solid colour (no person in it)."""
    image = np.zeros((size, size, 3), np.uint8)
    image[:] = colour
    image[:, :, 2] = np.linspace(0, 255, size, dtype=np.uint8)[:, None]
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return ContentFile(buffer.getvalue(), name="image.png")


class AvatarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Avatar

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Avatar {n}")
    image = factory.LazyFunction(lambda: png_file(128))
    face_crop = factory.LazyFunction(lambda: png_file(64))
    attributes = factory.LazyFunction(blank)
    seed = factory.Sequence(lambda n: 1000 + n)
    engine = "stylegan-offline"
    engine_version = "test"


class GenerationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Generation

    owner = factory.SubFactory(UserFactory)
    job = factory.SubFactory(
        JobFactory,
        owner=factory.SelfAttribute("..owner"),
        kind=Job.Kind.GENERATE,
        status=Job.Status.SUCCEEDED,
        progress=100,
    )
    attributes = factory.LazyFunction(lambda: {**blank(), "glasses": "glasses"})
    count = 2
    base_seed = 42
    engine = "stylegan-offline"


class CandidateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Candidate

    generation = factory.SubFactory(GenerationFactory)
    index = factory.Sequence(lambda n: n)
    image = factory.LazyFunction(lambda: png_file(128))
    face_crop = factory.LazyFunction(lambda: png_file(64))
    seed = factory.Sequence(lambda n: 5000 + n)
    honoured = factory.LazyFunction(
        lambda: {"glasses": {"asked": "glasses", "measured": "glasses", "honoured": True}}
    )
    engine = "stylegan-offline"
    engine_version = "test"


def stored_bytes(field_file) -> bytes:
    """A stored file's bytes, read fresh from storage."""
    with field_file.storage.open(field_file.name, "rb") as handle:
        return handle.read()
