"""Image swap benchmark: analyse and landmark-swap times at 720p and 4K, one face.

Run ``python -m benchmarks.swap_image``; the figures it prints are quoted in docs/benchmarks.md
under "Image swap". The target is scikit-image's astronaut scaled onto a canvas; the source is
the Mobius avatar from ../shared when present, else the astronaut's own face (timings only).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from worker.analysis import MediapipeAnalyser
from worker.swap.landmark import LandmarkSwapper, paste_face, prepared
from worker.types import Face, SourceFace, SwapOptions

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
SHARED_AVATAR = SHARED / "fixtures" / "mobius" / "avatar-a.png"
WARM_UP = 2
RUNS = 9
# Canvas sizes, and how tall the astronaut's portrait is drawn on each (her face is then about
# a fifth of that).
SCENES = {"720p": ((1280, 720), 600), "4K": ((3840, 2160), 1800)}


def astronaut() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut())


def source_image() -> np.ndarray:
    if SHARED_AVATAR.exists():
        from PIL import Image

        return np.asarray(Image.open(SHARED_AVATAR).convert("RGB")).copy()
    return astronaut()


def scene(size: tuple[int, int], portrait: int) -> np.ndarray:
    """The astronaut scaled to ``portrait`` px high on a grey canvas of ``size`` (w, h)."""
    width, height = size
    canvas = np.full((height, width, 3), 120, np.uint8)
    photo = cv2.resize(astronaut(), (portrait, portrait), interpolation=cv2.INTER_CUBIC)
    x, y = (width - portrait) // 2, (height - portrait) // 2
    canvas[y:y + portrait, x:x + portrait] = photo
    return canvas


def median_ms(action: Callable[[], object]) -> float:
    for _ in range(WARM_UP):
        action()
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    analyser = MediapipeAnalyser()
    swapper = LandmarkSwapper()
    source = swapper.prepare_source(source_image())
    options = SwapOptions()
    print(f"median of {RUNS} runs after {WARM_UP} warm-up runs, one face; ms")
    print(f"{'scene':<6} {'face px':>8} {'analyse':>8} {'mesh':>6} {'swap':>6} {'total':>6}")
    for name, (size, portrait) in SCENES.items():
        frame = scene(size, portrait)
        faces = analyser.analyse(frame)
        if len(faces) != 1:
            raise SystemExit(f"{name}: expected one face, found {len(faces)}")
        analyse, mesh, swap, paste = measure(analyser, swapper, frame, faces, source, options)
        print(f"{name:<6} {round(faces[0].height):>8} {analyse:>8.1f} {mesh:>6.1f} {swap:>6.1f} "
              f"{analyse + swap:>6.1f}   (one paste_face with its frame copy: {paste:.1f})")


def measure(analyser: MediapipeAnalyser, swapper: LandmarkSwapper, frame: np.ndarray,
            faces: list[Face], source: SourceFace, options: SwapOptions) -> tuple[float, ...]:
    """Median ms of: analyse, the mesh on the face's crop alone (what a caller pays when it
    already knows the box), swap (frame copy included), and paste_face on one face."""
    face = faces[0]
    ready = prepared(source)
    return (
        median_ms(lambda: analyser.analyse(frame)),
        median_ms(lambda: analyser._mesh_in_box(frame, face.box, face.score)),
        median_ms(lambda: swapper.swap(frame, faces, source, options)),
        median_ms(lambda: paste_face(frame.copy(), face, ready, options)),
    )

if __name__ == "__main__":
    main()
