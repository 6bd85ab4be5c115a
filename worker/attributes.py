"""The avatar attribute schema, defined once: it drives the builder's form, the prompt, the
offline generator's steering and validation. Every field accepts "any" (no preference).
Ages are adult bands only: SafeFace makes no faces of minors."""

from __future__ import annotations

import random
from dataclasses import dataclass

ANY = "any"


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    swatch: str = ""  # a CSS colour for fields shown as swatches (skin tone, hair, eyes)


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    choices: tuple[Choice, ...]
    help: str = ""

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(choice.value for choice in self.choices)

    def label_of(self, value: str) -> str:
        if value == ANY:
            return "Any"
        return next(choice.label for choice in self.choices if choice.value == value)


# The 10-step Monk Skin Tone scale (Ellis Monk, 2019; the swatch colours Google published).
MONK_SWATCHES = (
    "#f6ede4", "#f3e7db", "#f7ead0", "#eadaba", "#d7bd96",
    "#a07e56", "#825c43", "#604134", "#3a312a", "#292420",
)

FIELDS: tuple[Field, ...] = (
    Field("gender", "Gender presentation", (
        Choice("feminine", "Feminine"),
        Choice("masculine", "Masculine"),
        Choice("androgynous", "Androgynous"),
    )),
    Field("age", "Age", (
        Choice("18-29", "18–29"),
        Choice("30-44", "30–44"),
        Choice("45-59", "45–59"),
        Choice("60+", "60 and over"),
    ), help="Adults only."),
    Field("skin_tone", "Skin tone", tuple(
        Choice(str(step), f"Monk {step}", MONK_SWATCHES[step - 1]) for step in range(1, 11)
    ), help="The 10-step Monk Skin Tone scale."),
    Field("ancestry", "Ancestry", (
        Choice("unspecified", "Unspecified"),
        Choice("african", "African"),
        Choice("east-asian", "East Asian"),
        Choice("south-asian", "South Asian"),
        Choice("southeast-asian", "Southeast Asian"),
        Choice("middle-eastern", "Middle Eastern or North African"),
        Choice("european", "European"),
        Choice("latin-american", "Latin American"),
        Choice("indigenous", "Indigenous peoples of the Americas"),
        Choice("pacific-islander", "Pacific Islander"),
    ), help="Optional; shapes features in engines that read prompts."),
    Field("hair_colour", "Hair colour", (
        Choice("black", "Black", "#1c1a19"),
        Choice("dark-brown", "Dark brown", "#3b2a20"),
        Choice("brown", "Brown", "#6a4a32"),
        Choice("blonde", "Blonde", "#d8b770"),
        Choice("red", "Red", "#a4462a"),
        Choice("grey", "Grey", "#9a9a98"),
        Choice("white", "White", "#e8e6e1"),
    )),
    Field("hair_texture", "Hair texture", (
        Choice("straight", "Straight"),
        Choice("wavy", "Wavy"),
        Choice("curly", "Curly"),
        Choice("coily", "Coily"),
    )),
    Field("hair_length", "Hair length", (
        Choice("bald", "Bald"),
        Choice("short", "Short"),
        Choice("medium", "Medium"),
        Choice("long", "Long"),
    )),
    Field("eye_colour", "Eye colour", (
        Choice("brown", "Brown", "#5a3a22"),
        Choice("hazel", "Hazel", "#8e7240"),
        Choice("green", "Green", "#4f7a4a"),
        Choice("blue", "Blue", "#4d7fb8"),
        Choice("grey", "Grey", "#8a9198"),
    )),
    Field("facial_hair", "Facial hair", (
        Choice("none", "None"),
        Choice("stubble", "Stubble"),
        Choice("moustache", "Moustache"),
        Choice("beard", "Beard"),
    )),
    Field("glasses", "Glasses", (
        Choice("none", "None"),
        Choice("glasses", "Glasses"),
    )),
    Field("freckles", "Freckles", (
        Choice("none", "None"),
        Choice("freckles", "Freckles"),
    )),
    Field("expression", "Expression", (
        Choice("neutral", "Neutral"),
        Choice("smile", "Smile"),
    )),
)

FIELDS_BY_NAME: dict[str, Field] = {field.name: field for field in FIELDS}

Attributes = dict[str, str]


class InvalidAttributes(ValueError):
    """An attribute name or value outside the schema."""


def blank() -> Attributes:
    """Every field at "any"."""
    return {field.name: ANY for field in FIELDS}


def validate(attributes: dict[str, str]) -> Attributes:
    """A full, checked copy: missing fields become "any"; unknown names or values raise."""
    unknown = set(attributes) - set(FIELDS_BY_NAME)
    if unknown:
        raise InvalidAttributes(f"Unknown attribute: {', '.join(sorted(unknown))}.")
    checked = blank()
    for name, value in attributes.items():
        field = FIELDS_BY_NAME[name]
        if value != ANY and value not in field.values:
            raise InvalidAttributes(f"{field.label}: {value!r} is not one of the choices.")
        checked[name] = value
    return checked


def surprise(rng: random.Random) -> Attributes:
    """Draw every field uniformly over its concrete choices, so no group is the default."""
    return {field.name: rng.choice(field.values) for field in FIELDS}


def describe(attributes: Attributes) -> str:
    """A short human description of the chosen (non-"any") attributes."""
    parts = [
        f"{FIELDS_BY_NAME[name].label}: {FIELDS_BY_NAME[name].label_of(value)}"
        for name, value in attributes.items()
        if value != ANY
    ]
    return "; ".join(parts) or "Any"
