"""Measure how well the offline generator honours asked attributes, and the skin-tone balance
of "Surprise me" avatars. Prints markdown tables quoted in docs/attributes.md.

    python scripts/measure_attributes.py landing --count 100     # per steered attribute
    python scripts/measure_attributes.py surprise --count 100 --sheet /tmp/surprise.png
    python scripts/measure_attributes.py diversity --count 25    # same-request look-alikes

``diversity`` needs dlib's face-recognition weights from the ``face-recognition-models`` sdist
(about 100 MB; ``pip install face-recognition-models==0.3.0``, for this script only): it
compares the 128-d descriptors of the 4 candidates of each request.

Seeded: faces i = 0..count-1 use seed 1000 + 100 * i, and "surprise" draws its attributes
with ``worker.attributes.surprise(random.Random(i))``.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import random
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from worker import registry  # noqa: E402
from worker.attributes import FIELDS_BY_NAME, blank, surprise  # noqa: E402
from worker.errors import GenerationFailed  # noqa: E402
from worker.generate.stylegan import StyleGANGenerator, networks, z_for  # noqa: E402

STEERED = ("skin_tone", "gender", "age", "expression", "glasses", "hair_colour", "eye_colour")


def seed_of(index: int) -> int:
    return 1000 + 100 * index


def landing(generator: StyleGANGenerator, names: list[str], count: int) -> None:
    print("| attribute | faces | landed | share |")
    print("|---|---|---|---|")
    for name in names:
        values = FIELDS_BY_NAME[name].values
        landed = 0
        misses: Counter[str] = Counter()
        for index in range(count):
            asked = values[index % len(values)]
            try:
                (face,) = generator.generate({**blank(), name: asked}, seed_of(index), 1)
            except GenerationFailed:
                misses[f"{asked}->failed"] += 1
                continue
            result = face.attributes[name]
            landed += result.honoured
            if not result.honoured:
                misses[f"{asked}->{result.measured}"] += 1
        print(f"| {name} | {count} | {landed} | {landed / count:.0%} |"
              f" <!-- misses: {dict(misses.most_common(5))} -->", flush=True)


def balance(generator: StyleGANGenerator, count: int, sheet: str | None = None) -> None:
    """The measured Monk steps of ``count`` surprise avatars; with ``sheet``, also a contact
    sheet (PNG) of their face crops sorted by asked step, to check the tones by eye."""
    import cv2

    tiles: list[tuple[int, np.ndarray]] = []
    steps: Counter[int] = Counter()
    asked_steps: Counter[int] = Counter()
    began = time.perf_counter()
    failed = 0
    for index in range(count):
        attributes = surprise(random.Random(index))
        try:
            (face,) = generator.generate(attributes, seed_of(index), 1)
        except GenerationFailed as error:
            failed += 1
            print(f"face {index}: {error}", file=sys.stderr, flush=True)
            continue
        steps[int(face.attributes["skin_tone"].measured or 0)] += 1
        tile = cv2.resize(face.face_crop, (128, 128), interpolation=cv2.INTER_AREA)
        cv2.putText(tile, f"{attributes['skin_tone']}>{face.attributes['skin_tone'].measured}",
                    (3, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 0), 1)
        tiles.append((int(attributes["skin_tone"]), tile))
        asked_steps[int(attributes["skin_tone"])] += 1
        print(f"face {index}: asked Monk {attributes['skin_tone']}, measured "
              f"{face.attributes['skin_tone'].measured}", file=sys.stderr, flush=True)
    seconds = (time.perf_counter() - began) / count
    if sheet and tiles:
        ordered = [tile for _, tile in sorted(tiles, key=lambda pair: pair[0])]
        ordered += [np.zeros_like(ordered[0])] * (-len(ordered) % 10)
        grid = np.concatenate([np.concatenate(ordered[r:r + 10], axis=1)
                               for r in range(0, len(ordered), 10)], axis=0)
        cv2.imwrite(sheet, cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    print("| Monk step | " + " | ".join(str(s) for s in range(1, 11)) + " |")
    print("|---|" + "---|" * 10)
    print("| asked | " + " | ".join(str(asked_steps[s]) for s in range(1, 11)) + " |")
    print("| measured | " + " | ".join(str(steps[s]) for s in range(1, 11)) + " |")
    print(f"\n{count} faces, {seconds:.1f} s a face; every step present: "
          f"{all(steps[s] for s in range(1, 11))}; largest step share: "
          f"{max(steps.values())} of {count}; generation failed: {failed}")


class Descriptors:
    """dlib's 128-d face descriptors (ResNet v1), aligned on its own 5-point landmarks."""

    def __init__(self) -> None:
        import dlib

        spec = importlib.util.find_spec("face_recognition_models")
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit("pip install face-recognition-models==0.3.0 (measuring only)")
        models = Path(next(iter(spec.submodule_search_locations))) / "models"
        self._shape = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
        self._net = dlib.face_recognition_model_v1(
            str(models / "dlib_face_recognition_resnet_model_v1.dat"))
        self._dlib = dlib

    def of(self, image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
        x0, y0, x1, y1 = (int(v) for v in box)
        shape = self._shape(image, self._dlib.rectangle(x0, y0, x1, y1))
        return np.array(self._net.compute_face_descriptor(image, shape, 1))


def diversity(generator: StyleGANGenerator, count: int, candidates: int = 4) -> None:
    """Pairwise descriptor distances between the candidates of one request, against a
    threshold calibrated on unsteered faces of different seeds (different people by
    construction): the 2nd percentile of their distances."""
    from worker import api

    describe = Descriptors()
    nets = networks()
    unrelated = []
    for seed in range(40):
        image = nets.synthesis(nets.style(z_for(500_000 + seed), 0.7))
        faces = api.analyse(image)
        if len(faces) == 1:
            unrelated.append(describe.of(image, faces[0].box))
    baseline = [float(np.linalg.norm(a - b)) for a, b in itertools.combinations(unrelated, 2)]
    calibrated = float(np.percentile(baseline, 2))
    within = []
    for index in range(count):
        attributes = surprise(random.Random(index))
        faces = generator.generate(attributes, seed_of(index), candidates)
        found = [describe.of(face.image, api.analyse(face.image)[0].box) for face in faces]
        distances = [float(np.linalg.norm(a - b)) for a, b in itertools.combinations(found, 2)]
        within.extend(distances)
        print(f"request {index}: Monk {attributes['skin_tone']}, min distance "
              f"{min(distances):.3f}", file=sys.stderr, flush=True)
    within_array = np.array(within)
    print(f"unrelated faces: {len(baseline)} pairs, distance median {np.median(baseline):.3f}, "
          f"2nd percentile {calibrated:.3f}; dlib's photo threshold 0.6 holds "
          f"{np.mean(np.array(baseline) < 0.6):.0%} of them")
    print(f"same-request candidates: {len(within)} pairs over {count} requests, distance median "
          f"{np.median(within_array):.3f}; under {calibrated:.3f} (same person): "
          f"{np.mean(within_array < calibrated):.0%}; "
          f"under 0.6: {np.mean(within_array < 0.6):.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("landing", "surprise", "diversity"))
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--attributes", nargs="*", default=list(STEERED))
    parser.add_argument("--sheet", help="surprise: write a contact sheet of the faces here")
    args = parser.parse_args()
    generator = registry.get("generate", "stylegan-offline")
    if args.what == "landing":
        landing(generator, args.attributes, args.count)
    elif args.what == "diversity":
        diversity(generator, args.count)
    else:
        balance(generator, args.count, args.sheet)


if __name__ == "__main__":
    main()
