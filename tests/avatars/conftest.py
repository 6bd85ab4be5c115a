"""Test-only generator backends, registered under names no setting would choose.

They exercise the Django side's own paths (failure messages, cancellation between candidates),
not the engine: the real offline engine has its own end-to-end test in test_tasks.py.
"""

from collections.abc import Callable

import numpy as np
import pytest

from worker.errors import GenerationFailed
from worker.registry import register
from worker.types import AttributeResult, GeneratedFace

BROKEN = "test-broken"
FLAT = "test-flat"


@register("generate", BROKEN, priority=-100)
class BrokenGenerator:
    """Always fails the way a real generator does when no face passes its gate."""

    version = "0"

    @classmethod
    def available(cls) -> bool:
        return True

    def generate(self, attributes, seed, n, *, progress, cancelled):
        raise GenerationFailed("The test generator could not make a face.")


@register("generate", FLAT, priority=-100)
class FlatGenerator:
    """Flat-colour squares derived from the seed; calls ``before_each`` first (a test hook)."""

    version = "0"
    SUPPORTED = frozenset({"glasses"})
    before_each: Callable[[], None] = staticmethod(lambda: None)

    @classmethod
    def available(cls) -> bool:
        return True

    def generate(self, attributes, seed, n, *, progress, cancelled):
        FlatGenerator.before_each()
        faces = []
        for offset in range(n):
            colour = np.random.default_rng(seed + offset).integers(0, 256, 3, dtype=np.uint8)
            image = np.empty((96, 96, 3), np.uint8)
            image[:] = colour
            faces.append(
                GeneratedFace(
                    image=image,
                    face_crop=image[16:80, 16:80].copy(),
                    seed=seed + offset,
                    backend=FLAT,
                    version=self.version,
                    attributes={"glasses": AttributeResult(attributes["glasses"], "none", False)},
                )
            )
        return faces


@pytest.fixture
def flat_engine(settings):
    settings.SAFEFACE_GENERATE_ENGINE = FLAT
    yield FlatGenerator
    FlatGenerator.before_each = staticmethod(lambda: None)


@pytest.fixture
def broken_engine(settings):
    settings.SAFEFACE_GENERATE_ENGINE = BROKEN
    return BrokenGenerator
