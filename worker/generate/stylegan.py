"""The offline avatar generator: MobileStyleGAN (from the ``random-face`` wheel) on OpenVINO,
steered in its style space ``w`` by a shipped bank of measured latents and a few directions."""

from __future__ import annotations

import importlib.util
import threading
from functools import cache
from pathlib import Path

import numpy as np

from worker import attributes as schema
from worker.errors import Cancelled, GenerationFailed, ModelUnavailable
from worker.generate import gate, measure
from worker.generate.crop import aligned_crop
from worker.registry import register
from worker.types import (
    CancelledCheck,
    GeneratedFace,
    Image,
    ProgressCallback,
    never_cancelled,
    no_progress,
)

STYLE_DIM = 512
# Columns of the colour regression that a colour push keeps where they are: cheek L*a*b* and
# sclera L* (see ``Steering.colour_push``).
COLOUR_HELD = [6, 7, 8, 9]
# Truncation used to compute nothing but the shipped w_mean: the average style of this many z.
W_MEAN_SAMPLES = 4096
DATA_DIR = Path(__file__).resolve().parent / "data"


@cache
def model_dir() -> Path | None:
    """Where the installed ``random-face`` package keeps its OpenVINO IR files, or None.

    Found by spec, never imported: the package's ``__init__`` imports gdown, which is not
    installed (it is installed with --no-deps)."""
    spec = importlib.util.find_spec("random_face")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    files = ("MappingNetwork.xml", "MappingNetwork.bin", "SynthesisNetwork.xml",
             "SynthesisNetwork.bin")
    return folder if all((folder / name).is_file() for name in files) else None


def openvino_installed() -> bool:
    return importlib.util.find_spec("openvino") is not None


class Networks:
    """The two compiled networks: mapping z [1,512] -> w [1,512] and synthesis w -> RGB image.

    Compiled once per process (see ``networks()``); OpenVINO's compiled models are safe to
    call from several threads, but each call here holds a lock so a process never runs two
    1024 px syntheses at once on a small machine."""

    def __init__(self, folder: Path):
        import openvino

        core = openvino.Core()
        self._mapping = core.compile_model(
            core.read_model(folder / "MappingNetwork.xml", folder / "MappingNetwork.bin"), "CPU")
        self._synthesis = core.compile_model(
            core.read_model(folder / "SynthesisNetwork.xml", folder / "SynthesisNetwork.bin"),
            "CPU")
        self._lock = threading.Lock()
        self.w_mean = self._load_w_mean()

    def _load_w_mean(self) -> np.ndarray:
        path = DATA_DIR / "w_mean.npy"
        if path.is_file():
            return np.load(path).astype(np.float32).reshape(1, STYLE_DIM)
        return self.compute_w_mean()

    def compute_w_mean(self, samples: int = W_MEAN_SAMPLES, seed: int = 0) -> np.ndarray:
        """The mean style over ``samples`` standard-normal z (the truncation centre)."""
        rng = np.random.default_rng(seed)
        total = np.zeros((1, STYLE_DIM), np.float64)
        for _ in range(samples):
            total += self.mapping(rng.standard_normal((1, STYLE_DIM)).astype(np.float32))
        return (total / samples).astype(np.float32)

    def mapping(self, z: np.ndarray) -> np.ndarray:
        with self._lock:
            return np.asarray(self._mapping(z.astype(np.float32).reshape(1, STYLE_DIM))[0]).copy()

    def style(self, z: np.ndarray, psi: float) -> np.ndarray:
        """The truncated style ``w_mean + psi (w - w_mean)`` for one z."""
        return self.w_mean + psi * (self.mapping(z) - self.w_mean)

    def synthesis(self, w: np.ndarray) -> Image:
        """The 1024x1024 RGB uint8 portrait for one style vector."""
        with self._lock:
            out = np.asarray(self._synthesis(w.astype(np.float32).reshape(1, STYLE_DIM))[0])[0]
        pixels = (np.clip(out, -1.0, 1.0) + 1.0) * 127.5
        return np.ascontiguousarray(np.rint(pixels).astype(np.uint8).transpose(1, 2, 0))


_networks: Networks | None = None
_networks_lock = threading.Lock()


def networks() -> Networks:
    """The process-wide compiled networks, built on first use."""
    global _networks
    with _networks_lock:
        if _networks is None:
            folder = model_dir()
            if folder is None:
                raise ModelUnavailable("The random-face package (MobileStyleGAN) is not installed.")
            _networks = Networks(folder)
        return _networks


def z_for(seed: int) -> np.ndarray:
    """The latent z for a seed: a reproducible standard-normal [1, 512] draw."""
    return np.random.default_rng(seed).standard_normal((1, STYLE_DIM)).astype(np.float32)


class Steering:
    """The shipped steering data (``data/steering.npz``, made by
    ``scripts/fit_stylegan_directions.py``): a bank of clean adult latents with their measured
    attributes, and unit directions in w with their slopes (attribute units per unit of w)."""

    def __init__(self, path: Path):
        data = np.load(path)
        self.w = data["bank_w"].astype(np.float32)
        self.monk = data["bank_monk"].astype(int)
        self.ita = data["bank_ita"].astype(np.float32)
        self.age = data["bank_age"].astype(int)
        self.male = data["bank_male"].astype(int)
        self.gender_confidence = data["bank_gender_confidence"].astype(int)
        self.smile = data["bank_smile"].astype(np.float32)
        self.glasses = data["bank_glasses"].astype(np.float32)
        self.hair = data["bank_hair"].astype(str)
        self.eyes = data["bank_eyes"].astype(str)
        self.directions = {key[len("direction_"):]: data[key].astype(np.float32)
                           for key in data.files if key.startswith("direction_")}
        self.slopes = {key[len("slope_"):]: float(data[key])
                       for key in data.files if key.startswith("slope_")}

        # An orthonormal basis of the directions, to take them out of a fresh style.
        self._basis = np.linalg.qr(np.stack(list(self.directions.values()), axis=1))[0]
        # The ridge regression from w to the measured colours (columns: hair L*, a*, b*, iris
        # L*, a*, b*, cheek L*, a*, b*, sclera L*), where the data holds it.
        self.colour_weights = (data["colour_weights"].astype(np.float32)
                               if "colour_weights" in data.files else None)
        self.colour_centre = (data["colour_centre"].astype(np.float32)
                              if "colour_centre" in data.files else None)
        self.colour_offset = (data["colour_offset"].astype(np.float32)
                              if "colour_offset" in data.files else None)

    def without_directions(self, offset: np.ndarray) -> np.ndarray:
        """``offset`` with its components along every fitted direction removed."""
        return offset - self._basis @ (self._basis.T @ offset)

    def colour_push(self, w: np.ndarray, targets: dict[int, float]) -> np.ndarray:
        """The shortest change of ``w`` that moves the predicted colours (column index ->
        wanted L*a*b* value) to their targets while the predicted cheek colour and sclera
        lightness stay (pushing the colours alone lit and lightened dark faces: 12 of 43 asked
        Monk 7-10 came back measured 5 or lighter), orthogonal to the fitted directions.
        Zero without the data."""
        if self.colour_weights is None or not targets:
            return np.zeros(STYLE_DIM, np.float32)
        columns = sorted(targets)
        held = [c for c in COLOUR_HELD if c < self.colour_weights.shape[1]]
        predicted = (w - self.colour_centre) @ self.colour_weights[:, columns] + \
            self.colour_offset[columns]
        wanted = np.concatenate([np.array([targets[c] for c in columns]) - predicted,
                                 np.zeros(len(held))]).astype(np.float32)
        weights = self.colour_weights[:, columns + held]
        free = weights - self._basis @ (self._basis.T @ weights)
        return (free @ np.linalg.solve(free.T @ free, wanted)).astype(np.float32)


@cache
def steering() -> Steering | None:
    path = DATA_DIR / "steering.npz"
    return Steering(path) if path.is_file() else None


# Where an asked value lands in each steered measure; pushes aim a margin past the threshold.
AGE_TARGETS = {"18-29": 27.0, "30-44": 37.0, "45-59": 52.0, "60+": 66.0}
GENDER_TARGETS = {"feminine": 0.0, "masculine": 1.0, "androgynous": 0.5}
SMILE_MARGIN = 0.06
GLASSES_MARGIN = 15.0
# Regression slopes underestimate a push's effect on a single face less than they
# overestimate it; pushing a little further than the fit says lands more often.
PUSH_GAIN = 1.3
# A request draws its first face from every bank face of the asked step (and the steps beside
# it where the step holds fewer than POOL_MIN), among those matching the other asked
# attributes best or next best (at least MIN_CHOICES faces), then mixes in a second face of
# that pool and a fresh random style for identity. Without the fresh style, small pools (the
# dark steps) gave the same person for every seed. The fresh style repaints hair and eye
# colour, so asked colours are pushed back afterwards along the fitted colour regression.
POOL_MIN = 16
MIN_CHOICES = 8
MIX_RANGE = (0.2, 0.5)
# Share of a fresh seeded style (its offset from w_mean, with the fitted attribute directions
# projected out so tone, age, gender, smile and glasses stay the bank face's).
FRESH_RANGE = (0.45, 0.65)
# Longest total push in w: several pushes at once beyond about this break the face up (no face
# found, sunglasses, closed eyes), measured over surprise avatars.
MAX_PUSH = 2.0
# Hair and iris colours (L*, a*, b*) the colour push aims at: a margin inside the measure's
# rules (measure.hair_name, measure.eye_name), near the median of the faces measured so
# (green eyes, one face in 2700 samples, by the rules alone).
HAIR_TARGETS = {"black": (12.0, 4.0, 2.0), "dark-brown": (29.0, 8.0, 7.0),
                "brown": (47.0, 10.0, 12.0), "red": (40.0, 22.0, 16.0),
                "blonde": (67.0, 11.0, 26.0), "grey": (56.0, 2.0, 2.0),
                "white": (82.0, 1.0, 2.0)}
EYE_TARGETS = {"brown": (20.0, 7.0, 4.0), "hazel": (37.0, 4.5, 3.0), "green": (37.0, 0.5, 9.0),
               "blue": (22.0, 1.5, -7.0), "grey": (18.0, 1.5, -0.5)}
# Longest colour push in w: one colour alone needs up to about 4.5 (green eyes, the farthest
# target); hair and eyes together more, and are cut here so the face does not break up.
MAX_COLOUR_PUSH = 4.0
# Far colour pushes (green or hazel eyes, blonde or white hair on a dark face) lighten some
# faces the cheek hold does not catch: in 100 surprise requests, 7 of 43 asked Monk 7-10 came
# back measured 5 or lighter when every try was pushed. Every third seed is not pushed.
COLOUR_FREE_EVERY = 3
# Seeds tried per candidate before the best one so far is returned (or generation fails).
TRIES = 6
# When every try misses something, the face returned is the one whose misses weigh least: a
# missed skin tone outweighs all other misses together (the tone balance is a promise; "Surprise
# me" asks every attribute at once, and without this a face far off the asked tone came back).
MISS_WEIGHTS = {"skin_tone": 10}
# Bank-match weights: gender and age shape a face most, so they are matched first.
MATCH_WEIGHTS = {"gender": 3, "age": 2, "expression": 1, "glasses": 1, "hair_colour": 1,
                 "eye_colour": 1}


def _bank_values(bank: Steering, name: str) -> np.ndarray:
    """Each bank face's measured value of one attribute, in the schema's words."""
    if name == "gender":
        return np.array(["androgynous" if c < measure.ANDROGYNOUS_BELOW else
                         "masculine" if m else "feminine"
                         for m, c in zip(bank.male, bank.gender_confidence, strict=True)])
    if name == "age":
        return np.array([measure.age_band(int(a)) for a in bank.age])
    if name == "expression":
        return np.where(bank.smile >= measure.SMILE_THRESHOLD, "smile", "neutral")
    if name == "glasses":
        return np.where(bank.glasses >= measure.GLASSES_THRESHOLD, "glasses", "none")
    if name == "hair_colour":
        return bank.hair
    return bank.eyes


@register("generate", "stylegan-offline", priority=10)
class StyleGANGenerator:
    """Photoreal 1024 px faces of nobody, on the CPU. Returns the 1024 portrait as made (the
    swap resizes its source anyway) and a 256 px aligned face crop."""

    name = "stylegan-offline"
    version = "mobilestylegan-ffhq-1024/steering-1"
    # What this engine can steer and check. Ancestry, hair texture and length, facial hair and
    # freckles have no measure here, so the form shows them as not honoured.
    SUPPORTED = frozenset({"gender", "age", "skin_tone", "expression", "glasses",
                           "hair_colour", "eye_colour"})

    def __init__(self) -> None:
        self.networks = networks()
        self.bank = steering()

    @classmethod
    def available(cls) -> bool:
        return model_dir() is not None and openvino_installed()

    def generate(self, attributes: schema.Attributes, seed: int, n: int = 1, *,
                 progress: ProgressCallback = no_progress,
                 cancelled: CancelledCheck = never_cancelled) -> list[GeneratedFace]:
        """``n`` candidates; candidate i tries seeds ``seed + i * TRIES`` onwards, so
        candidates never share a seed, and each keeps the seed that made it (asking again
        with that seed and n=1 gives the same face)."""
        asked = schema.validate(attributes)
        candidates = []
        for index in range(n):
            if cancelled():
                raise Cancelled()
            candidates.append(self._candidate(asked, seed + index * TRIES, cancelled))
            progress(index + 1, n)
        return candidates

    def _candidate(self, asked: schema.Attributes, start: int,
                   cancelled: CancelledCheck) -> GeneratedFace:
        best: list[tuple[int, GeneratedFace]] = []

        def attempt(seed: int) -> GeneratedFace:
            face = self.make(asked, seed)
            misses = sum(MISS_WEIGHTS.get(name, 1) * (not result.honoured)
                         for name, result in face.attributes.items() if name in self.SUPPORTED)
            if misses:
                best.append((misses, face))
                raise gate.Rejected("asked attributes did not land")
            return face

        try:
            return gate.resample(attempt, start, tries=TRIES, cancelled=cancelled)
        except GenerationFailed:
            # Every try passed the gate or was rejected by it; if some passed, the face that
            # missed the fewest asked attributes is better than none (its results say so).
            if not best:
                raise
            return min(best, key=lambda pair: pair[0])[1]

    def make(self, asked: schema.Attributes, seed: int) -> GeneratedFace:
        """One face for one seed: steer, synthesise, gate (raises ``gate.Rejected``), measure."""
        image = self.networks.synthesis(self.style_for(asked, seed))
        passed = gate.check_face(image)
        face = passed.face
        measured = measure.measure(image, face.landmarks, face.box, estimate=passed.estimate)
        return GeneratedFace(
            image=image,
            face_crop=aligned_crop(image, face.keypoints),
            seed=seed,
            backend=self.name,
            version=self.version,
            attributes=measure.judge(asked, measured, self.SUPPORTED),
        )

    def style_for(self, asked: schema.Attributes, seed: int) -> np.ndarray:
        """The steered style for a seed: a bank face of the asked tone that best matches the
        other asked attributes, mixed with a second and a fresh style, then pushed along the
        fitted directions for what the mix still lacks and towards the asked hair and eye
        colours. Without a bank: the plain truncated style."""
        rng = np.random.default_rng(seed)
        bank = self.bank
        if bank is None:
            return self.networks.style(z_for(seed), 0.7)
        step = (int(asked["skin_tone"]) if asked["skin_tone"] != schema.ANY
                else int(rng.integers(1, 11)))
        distance = np.abs(bank.monk - step)
        members = np.flatnonzero(distance == distance.min())
        if len(members) < POOL_MIN:
            members = np.flatnonzero(distance <= distance.min() + 1)
        scores = np.zeros(len(members))
        for name, weight in MATCH_WEIGHTS.items():
            if asked[name] != schema.ANY:
                scores += weight * (_bank_values(bank, name)[members] == asked[name])
        # The best matches, widened to at least MIN_CHOICES faces: the pushes below fix what
        # a weaker match lacks, and a handful of best matches (glasses at step 9, say) made
        # the same person come back.
        floor = min(scores.max() - 1, np.sort(scores)[::-1][min(MIN_CHOICES, len(scores)) - 1])
        eligible = members[scores >= floor]
        first = int(rng.choice(eligible))
        second = int(rng.choice(members[members != first])) if len(members) > 1 else first
        mix = float(rng.uniform(*MIX_RANGE))
        w = (1 - mix) * bank.w[first] + mix * bank.w[second]
        fresh = (self.networks.style(z_for(seed), 1.0) - self.networks.w_mean)[0]
        w = w + float(rng.uniform(*FRESH_RANGE)) * bank.without_directions(fresh)
        current = {
            "ita": (1 - mix) * bank.ita[first] + mix * bank.ita[second],
            "age": (1 - mix) * bank.age[first] + mix * bank.age[second],
            "male": (1 - mix) * bank.male[first] + mix * bank.male[second],
            "smile": (1 - mix) * bank.smile[first] + mix * bank.smile[second],
            "glasses": (1 - mix) * bank.glasses[first] + mix * bank.glasses[second],
        }
        targets: dict[str, float] = {}
        if measure.monk_of_ita(float(current["ita"])) != step:
            targets["ita"] = measure.ita_of_monk(step)
        if asked["age"] != schema.ANY and measure.age_band(int(current["age"])) != asked["age"]:
            targets["age"] = AGE_TARGETS[asked["age"]]
        if asked["gender"] != schema.ANY:
            targets["male"] = GENDER_TARGETS[asked["gender"]]
        if asked["expression"] == "smile":
            targets["smile"] = max(current["smile"], measure.SMILE_THRESHOLD + SMILE_MARGIN)
        elif asked["expression"] == "neutral":
            targets["smile"] = min(current["smile"], measure.SMILE_THRESHOLD - SMILE_MARGIN)
        if asked["glasses"] == "glasses":
            targets["glasses"] = max(current["glasses"],
                                     measure.GLASSES_THRESHOLD + GLASSES_MARGIN)
        elif asked["glasses"] == "none":
            targets["glasses"] = min(current["glasses"],
                                     measure.GLASSES_THRESHOLD - GLASSES_MARGIN)
        push = np.zeros(STYLE_DIM, np.float32)
        for name, target in targets.items():
            if name in bank.directions:
                change = (target - float(current[name])) / bank.slopes[name]
                push += PUSH_GAIN * change * bank.directions[name]
        length = float(np.linalg.norm(push))
        if length > MAX_PUSH:
            push *= MAX_PUSH / length
        w = w + push
        colours: dict[int, float] = {}
        # One seed in COLOUR_FREE_EVERY is left unpushed, so every candidate's tries hold
        # faces the colour push cannot have moved off the asked skin tone.
        if seed % COLOUR_FREE_EVERY == COLOUR_FREE_EVERY - 1:
            return w.reshape(1, STYLE_DIM).astype(np.float32)
        if asked["hair_colour"] in HAIR_TARGETS:
            colours.update(enumerate(HAIR_TARGETS[asked["hair_colour"]]))
        if asked["eye_colour"] in EYE_TARGETS:
            colours.update(enumerate(EYE_TARGETS[asked["eye_colour"]], start=3))
        shift = bank.colour_push(w, colours)
        length = float(np.linalg.norm(shift))
        if length > MAX_COLOUR_PUSH:
            shift *= MAX_COLOUR_PUSH / length
        w = w + shift
        return w.reshape(1, STYLE_DIM).astype(np.float32)
