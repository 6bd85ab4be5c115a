"""The attribute schema: validation, the uniform surprise draw, descriptions."""
import random
from collections import Counter

import pytest

from worker import attributes as schema


def test_validate_fills_missing_fields_with_any():
    checked = schema.validate({"gender": "feminine"})
    assert checked["gender"] == "feminine"
    assert set(checked) == {field.name for field in schema.FIELDS}
    assert all(value == schema.ANY for name, value in checked.items() if name != "gender")


@pytest.mark.parametrize("bad", [{"gender": "robot"}, {"age": "12-17"}, {"wings": "yes"}])
def test_validate_rejects_values_outside_the_schema(bad):
    with pytest.raises(schema.InvalidAttributes):
        schema.validate(bad)


def test_ages_are_adult_bands_only():
    for value in schema.FIELDS_BY_NAME["age"].values:
        assert int(value.rstrip("+").split("-")[0]) >= 18


def test_every_field_offers_any():
    for field in schema.FIELDS:
        assert schema.validate({field.name: schema.ANY})[field.name] == schema.ANY


def test_surprise_is_uniform_over_each_fields_choices():
    rng = random.Random(7)
    draws = [schema.surprise(rng) for _ in range(5000)]
    for field in schema.FIELDS:
        counts = Counter(draw[field.name] for draw in draws)
        assert set(counts) == set(field.values)
        expected = len(draws) / len(field.values)
        assert max(counts.values()) < expected * 1.2
        assert min(counts.values()) > expected * 0.8


def test_describe_names_only_chosen_fields():
    text = schema.describe(schema.validate({"skin_tone": "7", "glasses": "glasses"}))
    assert text == "Skin tone: Monk 7; Glasses: Glasses"
