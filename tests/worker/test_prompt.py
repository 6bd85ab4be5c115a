"""The Mobius prompt builder: deterministic, adult-only, every chosen attribute in words."""

import random

import pytest

from worker.attributes import ANY, FIELDS, InvalidAttributes, blank, surprise
from worker.generate import prompt


def test_same_attributes_give_the_same_prompt():
    attributes = surprise(random.Random(3))
    assert prompt.build(attributes) == prompt.build(dict(attributes))


def test_blank_attributes_still_ask_for_one_adult_and_forbid_minors():
    built = prompt.build(blank())
    assert "one adult person" in built.text
    for word in ("child", "teenager", "minor", "multiple faces", "cartoon", "watermark"):
        assert word in built.negative
    assert "child" not in built.text


def test_every_concrete_choice_of_every_field_changes_the_prompt():
    base = prompt.build(blank())
    for field in FIELDS:
        texts = set()
        for value in field.values:
            if field.name == "ancestry" and value == "unspecified":
                continue
            built = prompt.build({field.name: value})
            assert built != base, (field.name, value)
            texts.add((built.text, built.negative))
        assert len(texts) == len(field.values) - (field.name == "ancestry"), field.name


def test_chosen_attributes_appear_in_words():
    built = prompt.build({
        "gender": "feminine", "age": "45-59", "skin_tone": "9", "ancestry": "south-asian",
        "hair_colour": "grey", "hair_texture": "curly", "hair_length": "long",
        "eye_colour": "hazel", "glasses": "glasses", "freckles": "freckles",
        "expression": "smile",
    })
    for words in ("adult woman", "in their fifties", "dark brown skin", "South Asian",
                  "long curly grey hair", "hazel eyes", "eyeglasses", "freckles", "smile"):
        assert words in built.text, words


def test_none_choices_go_to_the_negative_prompt():
    built = prompt.build({"glasses": "none", "freckles": "none", "facial_hair": "none"})
    assert "eyeglasses" in built.negative and "freckles" in built.negative
    assert "beard" in built.negative and "clean-shaven" in built.text


def test_bald_leaves_out_hair_colour_and_texture():
    built = prompt.build({"hair_length": "bald", "hair_colour": "red", "hair_texture": "wavy"})
    assert "bald head" in built.text
    assert "red hair" not in built.text and "wavy" not in built.text


def test_honoured_fields_are_the_chosen_ones():
    attributes = {"gender": "masculine", "ancestry": "unspecified", "glasses": ANY}
    assert prompt.honoured_by_prompt(attributes) == ["gender"]


def test_unknown_values_are_refused():
    with pytest.raises(InvalidAttributes):
        prompt.build({"age": "12-17"})
