"""Measure how well the offline generator honours asked attributes, and the skin-tone balance
of "Surprise me" avatars. Prints markdown tables quoted in docs/attributes.md.

    python scripts/measure_attributes.py landing --count 100     # per steered attribute
    python scripts/measure_attributes.py surprise --count 100    # Monk balance

Seeded: faces i = 0..count-1 use seed 1000 + 100 * i, and "surprise" draws its attributes
with ``worker.attributes.surprise(random.Random(i))``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from worker import registry  # noqa: E402
from worker.attributes import FIELDS_BY_NAME, blank, surprise  # noqa: E402
from worker.errors import GenerationFailed  # noqa: E402
from worker.generate.stylegan import StyleGANGenerator  # noqa: E402

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


def balance(generator: StyleGANGenerator, count: int) -> None:
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
        asked_steps[int(attributes["skin_tone"])] += 1
        print(f"face {index}: asked Monk {attributes['skin_tone']}, measured "
              f"{face.attributes['skin_tone'].measured}", file=sys.stderr, flush=True)
    seconds = (time.perf_counter() - began) / count
    print("| Monk step | " + " | ".join(str(s) for s in range(1, 11)) + " |")
    print("|---|" + "---|" * 10)
    print("| asked | " + " | ".join(str(asked_steps[s]) for s in range(1, 11)) + " |")
    print("| measured | " + " | ".join(str(steps[s]) for s in range(1, 11)) + " |")
    print(f"\n{count} faces, {seconds:.1f} s a face; every step present: "
          f"{all(steps[s] for s in range(1, 11))}; largest step share: "
          f"{max(steps.values())} of {count}; generation failed: {failed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("landing", "surprise"))
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--attributes", nargs="*", default=list(STEERED))
    args = parser.parse_args()
    generator = registry.get("generate", "stylegan-offline")
    if args.what == "landing":
        landing(generator, args.attributes, args.count)
    else:
        balance(generator, args.count)


if __name__ == "__main__":
    main()
