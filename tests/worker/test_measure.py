"""Attribute measures: the ITA -> Monk mapping, lighting normalisation, and the smile measure
on the generator's own steered faces."""

import numpy as np
import pytest

from worker.attributes import MONK_SWATCHES, blank
from worker.generate import measure
from worker.generate.stylegan import model_dir


def _rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)], float)


def test_face_ita_calibration_puts_each_labelled_group_in_its_monk_range() -> None:
    # The anchors are the median ITAs of faces a person labelled light, medium, brown, dark.
    groups = (range(8, 11), range(6, 8), range(4, 6), range(1, 4))
    for ita, steps in zip(measure.FACE_ITA_ANCHORS, groups, strict=True):
        assert measure.monk_of_ita(ita) in steps
    for step in range(1, 11):
        assert measure.monk_of_ita(measure.ita_of_monk(step)) == step
    # Flat swatches stay in order, light to dark.
    swatch_steps = [measure.monk_of_ita(measure.ita_of_lab(measure.srgb_to_lab(_rgb(swatch))))
                    for swatch in MONK_SWATCHES]
    assert swatch_steps == sorted(swatch_steps)
    assert swatch_steps[0] == 1 and swatch_steps[-1] == 10


def test_monk_step_never_gets_lighter_as_a_skin_patch_darkens() -> None:
    # Patches of the lightest swatch's colour under falling light, light to dark.
    # (Light scales linear RGB; no 8-bit rounding, whose steps wobble the ITA by a degree.)
    base = measure.srgb_to_linear(_rgb(MONK_SWATCHES[0]))
    steps = []
    for scale in np.linspace(1.0, 0.01, 40):
        lab = measure.linear_to_lab(base * scale)
        steps.append(measure.monk_of_ita(measure.ita_of_lab(lab)))
    assert steps == sorted(steps)
    assert steps[0] == 1 and steps[-1] >= 9


def test_dim_light_is_normalised_against_the_sclera() -> None:
    skin = measure.srgb_to_linear(np.array([200, 160, 130]))
    sclera = measure.srgb_to_linear(np.array([225, 222, 220]))
    well_lit = measure.ita_of_lab(measure.normalised_skin_lab(skin, sclera))
    # The same face under light 30% dimmer: raw ITA falls by far more than a Monk step ...
    raw_dim = measure.ita_of_lab(measure.linear_to_lab(skin * 0.7))
    assert measure.ita_of_lab(measure.linear_to_lab(skin)) - raw_dim > 8
    # ... the normalised one hardly moves.
    dim = measure.ita_of_lab(measure.normalised_skin_lab(skin * 0.7, sclera * 0.7))
    assert abs(dim - well_lit) < 1.0


def test_colour_names() -> None:
    assert measure.eye_name(np.array([45.0, -2.0, -12.0])) == "blue"
    assert measure.eye_name(np.array([25.0, 9.0, 14.0])) == "brown"
    skin = np.array([65.0, 15.0, 18.0])
    assert measure.hair_name(np.array([12.0, 2.0, 2.0]), skin) == "black"
    assert measure.hair_name(np.array([68.0, 6.0, 28.0]), skin) == "blonde"
    assert measure.hair_name(skin + 1, skin) is None


@pytest.mark.skipif(model_dir() is None, reason="random-face is not installed")
def test_smile_measure_is_higher_on_a_steered_smile_than_on_a_steered_neutral_face() -> None:
    from worker import registry

    generator = registry.get("generate", "stylegan-offline")
    seed = 11
    # Through the generator's own resampling: a single try may miss (each seed is a new
    # person, mixed with a fresh style), the candidate it returns should not.
    (smiling,) = generator.generate({**blank(), "expression": "smile"}, seed, 1)
    (neutral,) = generator.generate({**blank(), "expression": "neutral"}, seed, 1)
    assert smiling.attributes["expression"].measured == "smile"
    assert neutral.attributes["expression"].measured == "neutral"

    def score(face) -> float:
        from worker.generate.gate import check_face

        return measure.smile_score(check_face(face.image).face.landmarks)

    assert score(smiling) > score(neutral) + 0.05
