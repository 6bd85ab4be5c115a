"""factory_boy factories for targets and swaps, with real (small) image files."""

import io

import factory
import numpy as np
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from jobs.models import Job
from swaps.models import MediaKind, Swap, Target
from tests.factories import JobFactory, UserFactory


def jpeg_file(size: int = 64, name: str = "image.jpg") -> ContentFile:
    """A small real JPEG of a plain gradient (no person in it)."""
    image = np.zeros((size, size, 3), np.uint8)
    image[:, :, 0] = np.linspace(0, 255, size, dtype=np.uint8)[None, :]
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG")
    return ContentFile(buffer.getvalue(), name=name)


class TargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Target

    owner = factory.SubFactory(UserFactory)
    kind = MediaKind.IMAGE
    file = factory.LazyFunction(lambda: jpeg_file(128, "target.jpg"))
    content_type = "image/jpeg"
    original_name = "me.jpg"
    width = 128
    height = 128
    faces = factory.LazyFunction(lambda: [{"box": [30, 30, 90, 100], "score": 0.95,
                                           "thumb": "", "usable": True}])
    thumbnail = factory.LazyFunction(lambda: jpeg_file(64, "preview.jpg"))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(hours=24))


class SwapFactory(factory.django.DjangoModelFactory):
    """A finished swap with an output and a thumbnail on disk."""

    class Meta:
        model = Swap

    owner = factory.SubFactory(UserFactory)
    job = factory.SubFactory(JobFactory, owner=factory.SelfAttribute("..owner"),
                             kind=Job.Kind.SWAP, status=Job.Status.SUCCEEDED, progress=100)
    target = factory.SubFactory(TargetFactory, owner=factory.SelfAttribute("..owner"))
    avatar = None
    kind = MediaKind.IMAGE
    options = factory.LazyFunction(lambda: {"faces": "all", "feather": 0.5, "colour_match": 1.0,
                                            "keep_audio": True, "enhance": False})
    output = factory.LazyFunction(lambda: jpeg_file(128, "output.jpg"))
    thumbnail = factory.LazyFunction(lambda: jpeg_file(64, "thumbnail.jpg"))
    engine = "landmark"
    engine_version = "test"
