"""Prompts for the diffusion avatar engine, built deterministically from the attribute schema:
a photoreal studio portrait of one adult stating every chosen attribute in words, plus a
negative prompt that keeps out minors, extra faces, occlusion and non-photographic styles."""

from __future__ import annotations

from dataclasses import dataclass

from worker.attributes import ANY, FIELDS, Attributes, validate

# CLIP reads only the first 77 tokens, so the subject and its attributes come first and the
# style words last, where truncation costs least.
SUBJECT = {
    "feminine": "woman",
    "masculine": "man",
    "androgynous": "androgynous person",
    ANY: "person",
}
AGE = {
    "18-29": "in their twenties",
    "30-44": "in their late thirties",
    "45-59": "in their fifties",
    "60+": "in their late sixties",
}
# Words for the Monk Skin Tone steps 1-10: diffusion text encoders know words, not scale numbers.
SKIN = {
    "1": "very pale porcelain",
    "2": "pale fair",
    "3": "fair light",
    "4": "light beige",
    "5": "light olive",
    "6": "medium tan",
    "7": "warm brown",
    "8": "medium brown",
    "9": "dark brown",
    "10": "deep dark brown",
}
ANCESTRY = {
    "unspecified": "",
    "african": "of African descent",
    "east-asian": "of East Asian descent",
    "south-asian": "of South Asian descent",
    "southeast-asian": "of Southeast Asian descent",
    "middle-eastern": "of Middle Eastern or North African descent",
    "european": "of European descent",
    "latin-american": "of Latin American descent",
    "indigenous": "Indigenous American",
    "pacific-islander": "Pacific Islander",
}
HAIR_COLOUR = {
    "black": "black",
    "dark-brown": "dark brown",
    "brown": "brown",
    "blonde": "blonde",
    "red": "red",
    "grey": "grey",
    "white": "white",
}
HAIR_LENGTH = {"short": "short", "medium": "shoulder-length", "long": "long"}
FACIAL_HAIR = {
    "none": "clean-shaven",
    "stubble": "light stubble",
    "moustache": "a moustache",
    "beard": "a full beard",
}
EXPRESSION = {"neutral": "relaxed neutral expression", "smile": "warm gentle smile"}

STYLE = (
    "looking straight at the camera, head and shoulders, face centred and fully visible, "
    "soft even studio lighting, plain light grey background, sharp focus, natural skin texture, "
    "photorealistic, best quality, HD"
)
NEGATIVE = (
    "child, kid, teenager, minor, young-looking, childlike features, baby face, school uniform, "
    "two people, multiple faces, crowd, cropped face, face out of frame, side profile, "
    "occluded face, hand on face, hat, mask, sunglasses, hair over eyes, "
    "cartoon, anime, illustration, painting, drawing, 3d render, cgi, doll, "
    "text, watermark, logo, signature, caption, frame, "
    "blurry, deformed, disfigured, extra eyes, nudity, nsfw"
)


@dataclass(frozen=True)
class Prompt:
    text: str
    negative: str


def _hair(attributes: Attributes) -> str:
    length, texture, colour = (
        attributes["hair_length"], attributes["hair_texture"], attributes["hair_colour"]
    )
    if length == "bald":
        return "a bald head"
    words = [
        HAIR_LENGTH.get(length, ""),
        texture if texture != ANY else "",
        HAIR_COLOUR.get(colour, ""),
    ]
    words = [word for word in words if word]
    return f"{' '.join(words)} hair" if words else ""


def build(attributes: dict[str, str]) -> Prompt:
    """The prompt pair for these attributes; "any" (and "unspecified" ancestry) leave a field out."""
    chosen = validate(attributes)
    subject = f"adult {SUBJECT[chosen['gender']]}"
    age = AGE.get(chosen["age"], "over 25 years old")
    head = f"studio portrait photograph of one {subject} {age}"
    details = [
        ANCESTRY.get(chosen["ancestry"], ""),
        f"{SKIN[chosen['skin_tone']]} skin" if chosen["skin_tone"] != ANY else "",
        _hair(chosen),
        f"{chosen['eye_colour']} eyes" if chosen["eye_colour"] != ANY else "",
        FACIAL_HAIR.get(chosen["facial_hair"], ""),
        "wearing clear eyeglasses" if chosen["glasses"] == "glasses" else "",
        "freckles" if chosen["freckles"] == "freckles" else "",
        EXPRESSION.get(chosen["expression"], ""),
    ]
    text = ", ".join([head, *[detail for detail in details if detail], STYLE])

    # A "none" choice is said twice: the positive prompt cannot say "no X" reliably.
    avoid = []
    if chosen["glasses"] == "none":
        avoid.append("eyeglasses")
    if chosen["freckles"] == "none":
        avoid.append("freckles")
    if chosen["facial_hair"] == "none":
        avoid.append("beard, moustache")
    negative = ", ".join([NEGATIVE, *avoid])
    return Prompt(text=text, negative=negative)


def honoured_by_prompt(attributes: dict[str, str]) -> list[str]:
    """The fields a prompt engine asks for in words (every field not left at "any")."""
    chosen = validate(attributes)
    return [
        field.name for field in FIELDS
        if chosen[field.name] != ANY
        and not (field.name == "ancestry" and chosen[field.name] == "unspecified")
    ]
