"""The engine's front door: one function per capability, the backend chosen by name or best
available. Django's Celery tasks call these and nothing deeper."""

from __future__ import annotations

from pathlib import Path

from worker import registry
from worker.attributes import Attributes
from worker.types import (
    CancelledCheck,
    Face,
    GeneratedFace,
    Image,
    ProgressCallback,
    SourceFace,
    SwapOptions,
    VideoInfo,
    never_cancelled,
    no_progress,
)


def analyse(image: Image, *, backend: str | None = None) -> list[Face]:
    """Every face in the image, largest first."""
    return registry.get("analyse", backend).analyse(image)


def prepare_source(image: Image, *, backend: str | None = None) -> SourceFace:
    """An avatar portrait made ready to swap from (its face found, embedded if needed)."""
    return registry.get("swap", backend).prepare_source(image)


def swap(
    frame: Image,
    faces: list[Face],
    source: SourceFace,
    options: SwapOptions = SwapOptions(),
    *,
    backend: str | None = None,
) -> Image:
    """The frame with the selected faces (``options.faces``) replaced by the source face."""
    return registry.get("swap", backend).swap(frame, faces, source, options)


def swap_video(
    input_path: Path,
    output_path: Path,
    source: SourceFace,
    options: SwapOptions = SwapOptions(),
    *,
    backend: str | None = None,
    progress: ProgressCallback = no_progress,
    cancelled: CancelledCheck = never_cancelled,
) -> VideoInfo:
    """Swap through a whole video, streaming frames; returns the output's info."""
    from worker.video import swap_video as run

    swapper = registry.get("swap", backend)
    return run(input_path, output_path, source, options, swapper=swapper,
               progress=progress, cancelled=cancelled)


def generate(
    attributes: Attributes,
    seed: int,
    n: int = 1,
    *,
    backend: str | None = None,
    progress: ProgressCallback = no_progress,
    cancelled: CancelledCheck = never_cancelled,
) -> list[GeneratedFace]:
    """``n`` avatar candidates for the attributes, reproducible by seed."""
    generator = registry.get("generate", backend)
    return generator.generate(attributes, seed, n, progress=progress, cancelled=cancelled)
