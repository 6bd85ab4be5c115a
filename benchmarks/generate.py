"""Avatar generation benchmark: milliseconds per face for the offline MobileStyleGAN engine,
unsteered (one synthesis) and steered (bank pick, pushes, synthesis, gate and measurement).
Numbers are quoted in docs/benchmarks.md, "Avatar generation"."""

from __future__ import annotations

import statistics
import time

from worker import registry
from worker.attributes import blank
from worker.generate.stylegan import networks, z_for

RUNS = 5


def _median_ms(run, runs: int = RUNS) -> float:
    run()  # warm-up: first calls compile kernels and load models
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        run()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def main() -> None:
    nets = networks()
    generator = registry.get("generate", "stylegan-offline")
    steered = {**blank(), "skin_tone": "7", "gender": "feminine", "expression": "smile"}
    seeds = iter(range(10_000, 20_000))
    synthesis = _median_ms(lambda: nets.synthesis(nets.style(z_for(next(seeds)), 0.7)))
    one_try = _median_ms(lambda: _try(generator, steered, next(seeds)))
    candidate = _median_ms(lambda: generator.generate(steered, next(seeds), 1))
    print(f"unsteered synthesis (z -> 1024 px face): {synthesis:.0f} ms (median of {RUNS})")
    print(f"steered single try (pick + synthesis + gate + measure): {one_try:.0f} ms")
    print(f"steered candidate incl. resampling (skin 7, feminine, smile): {candidate:.0f} ms")


def _try(generator, attributes, seed: int) -> None:
    from worker.generate.gate import Rejected

    try:
        generator.make(attributes, seed)
    except Rejected:
        pass


if __name__ == "__main__":
    main()
