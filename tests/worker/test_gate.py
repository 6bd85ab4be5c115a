"""The face gate on real generated pixels: no face, two faces, a small face, a child, an adult."""

import numpy as np
import pytest

from worker.errors import GenerationFailed
from worker.generate import gate
from worker.generate.stylegan import Networks, model_dir, networks, z_for

pytestmark = pytest.mark.skipif(model_dir() is None, reason="random-face is not installed")

# Seeds whose raw (unsteered) MobileStyleGAN faces at psi 1.0 are, as measured when the gate
# was written: an adult man aged about 31, and a small child (estimated age 5).
ADULT_SEED, CHILD_SEED = 2, 7


def face(seed: int, nets: Networks) -> np.ndarray:
    return nets.synthesis(nets.style(z_for(seed), 1.0))


@pytest.fixture(scope="module")
def nets() -> Networks:
    return networks()


@pytest.fixture(scope="module")
def adult(nets: Networks) -> np.ndarray:
    return face(ADULT_SEED, nets)


def test_an_adult_face_passes_with_its_age_and_gender(adult: np.ndarray) -> None:
    result = gate.check_face(adult)
    assert result.age >= gate.DEFAULT_LIMITS.min_age
    assert result.gender in {"male", "female"}
    assert result.face.landmarks is not None
    assert result.face.width > 0.4 * adult.shape[1]


def test_no_face_is_rejected() -> None:
    ramp = np.tile(np.linspace(0, 255, 512, dtype=np.uint8)[None, :, None], (512, 1, 3))
    with pytest.raises(gate.Rejected, match="no face"):
        gate.check_face(ramp)


def test_two_faces_side_by_side_are_rejected(adult: np.ndarray, nets: Networks) -> None:
    import cv2

    other = face(ADULT_SEED + 7, nets)
    pair = np.concatenate([cv2.resize(adult, (512, 512)), cv2.resize(other, (512, 512))], axis=1)
    with pytest.raises(gate.Rejected, match="2 faces"):
        gate.check_face(pair)


def test_a_small_face_is_rejected(adult: np.ndarray) -> None:
    import cv2

    canvas = np.full((1024, 1024, 3), 128, np.uint8)
    canvas[400:656, 400:656] = cv2.resize(adult, (256, 256), interpolation=cv2.INTER_AREA)
    with pytest.raises(gate.Rejected, match="too small"):
        gate.check_face(canvas)


def test_a_child_is_rejected(nets: Networks) -> None:
    # No package ships a real photo of a child; the generator's own child faces (which are
    # exactly what the gate exists to stop) stand in.
    with pytest.raises(gate.Rejected, match="under 21"):
        gate.check_face(face(CHILD_SEED, nets), limits=gate.GateLimits(max_yaw=90, max_pitch=90))


def test_resample_tries_the_next_seeds_then_fails_clearly() -> None:
    tried: list[int] = []

    def third_time_lucky(seed: int) -> int:
        tried.append(seed)
        if len(tried) < 3:
            raise gate.Rejected("eyes closed")
        return seed

    assert gate.resample(third_time_lucky, 40) == 42
    assert tried == [40, 41, 42]

    def never(seed: int) -> int:
        raise gate.Rejected(f"face too small ({seed} px wide)")

    with pytest.raises(GenerationFailed, match=r"in 4 tries \(face too small \(4x\)\)"):
        gate.resample(never, 0, tries=4)
