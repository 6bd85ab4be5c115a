"""Mobius (Corcelio/mobius, an SDXL fine-tune) on diffusers: the production avatar generator.

GPU only by default: a CPU run of SDXL at 1024 px takes many minutes. The pipeline is loaded
lazily on the first ``generate`` and kept for the process; every candidate passes the face gate
(one frontal, large, adult face) or is resampled with a new seed.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from worker import config
from worker.attributes import FIELDS_BY_NAME, validate
from worker.errors import Cancelled, EngineError, GenerationFailed
from worker.generate import prompt
from worker.generate.crop import aligned_crop
from worker.models_catalog import BY_NAME
from worker.registry import register
from worker.types import (
    AttributeResult,
    CancelledCheck,
    GeneratedFace,
    Image,
    ProgressCallback,
    never_cancelled,
    no_progress,
)

MOBIUS_DIR = "mobius"
VAE_DIR = "sdxl-vae-fp16-fix"
REVISION = BY_NAME["mobius"].revision[:7]  # the Corcelio/mobius commit the catalog pins

# A gate takes the RGB portrait and returns its verdict (a Face, or an object with ``.face`` and
# optionally ``.age`` / ``.gender``); it rejects by raising an EngineError.
Gate = Callable[[Image], Any]

def weights_present(root: Path) -> bool:
    """Whether the Mobius pipeline folder and the fp16-fix VAE are in place."""
    return (root / MOBIUS_DIR / "model_index.json").is_file() and (
        root / VAE_DIR / "config.json").is_file()


def load_pipeline(root: Path, settings: config.MobiusSettings, device: str) -> Any:
    """The Mobius pipeline from local files only, with the card's VAE, scheduler and precision."""
    import torch
    from diffusers import AutoencoderKL, StableDiffusionXLPipeline

    dtype = torch.float16 if device == "cuda" else torch.float32
    vae = AutoencoderKL.from_pretrained(root / VAE_DIR, dtype=dtype, local_files_only=True)
    pipe = StableDiffusionXLPipeline.from_pretrained(
        root / MOBIUS_DIR, vae=vae, dtype=dtype, local_files_only=True)
    pipe.scheduler = make_scheduler(settings.sampler, pipe.scheduler.config)
    if device == "cuda" and settings.cpu_offload:
        pipe.enable_model_cpu_offload()  # fits ~8 GB cards; slower than keeping it on the GPU
    else:
        pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def make_scheduler(sampler: str, scheduler_config: Any) -> Any:
    """The card's KDPM2 Ancestral (2nd order: about 2 UNet calls a step) or DPM++ 2M Karras
    (1 call a step)."""
    from diffusers import DPMSolverMultistepScheduler, KDPM2AncestralDiscreteScheduler

    if sampler == "dpmpp-2m-karras":
        return DPMSolverMultistepScheduler.from_config(
            scheduler_config, algorithm_type="dpmsolver++", use_karras_sigmas=True)
    return KDPM2AncestralDiscreteScheduler.from_config(scheduler_config)


def _default_gate(image: Image) -> Any:
    from worker.generate.gate import check_face

    return check_face(image)


def _age_band(age: float) -> str:
    bands = FIELDS_BY_NAME["age"].values
    if age < 30:
        return bands[0]
    if age < 45:
        return bands[1]
    return bands[2] if age < 60 else bands[3]


def _attribute_results(asked: dict[str, str], verdict: Any) -> dict[str, AttributeResult]:
    """Asked vs honoured: a prompt engine honours by prompt; the gate's age and gender estimates
    are recorded as measured where it gives them."""
    in_prompt = set(prompt.honoured_by_prompt(asked))
    measured: dict[str, str | None] = {name: None for name in asked}
    age = getattr(verdict, "age", None)
    if isinstance(age, (int, float)):
        measured["age"] = _age_band(float(age))
    gender = getattr(verdict, "gender", None)
    if gender in {"feminine", "masculine"}:
        measured["gender"] = gender
    elif isinstance(gender, str) and gender.lower() in {"female", "male"}:
        measured["gender"] = "feminine" if gender.lower() == "female" else "masculine"
    results = {}
    for name, value in asked.items():
        # Nothing asked ("any") is always honoured; a worded request counts as honoured unless a
        # measurement contradicts it.
        honoured = name not in in_prompt or measured[name] in (None, value)
        results[name] = AttributeResult(asked=value, measured=measured[name], honoured=honoured)
    return results


@register("generate", "mobius", priority=20)
class MobiusGenerator:
    """The Mobius avatar generator. ``gate`` and ``settings`` are injectable for tests."""

    name = "mobius"
    version = f"mobius@{REVISION}"

    def __init__(self, *, settings: config.MobiusSettings | None = None,
                 gate: Gate | None = None, models_dir: Path | None = None,
                 device: str | None = None) -> None:
        self.settings = settings or config.mobius_settings()
        self.gate = gate or _default_gate
        self.models_dir = models_dir or config.models_dir()
        self._device = device
        self._pipe: Any = None
        self._lock = threading.Lock()

    @classmethod
    def available(cls) -> bool:
        """Weights present, torch and diffusers importable, and CUDA unless
        SAFEFACE_MOBIUS_ALLOW_CPU=1. Checks files first so that torch is imported only then."""
        if not weights_present(config.models_dir()):
            return False
        if not all(importlib.util.find_spec(m) for m in ("torch", "diffusers", "transformers")):
            return False
        return config.mobius_settings().allow_cpu or config.cuda_available()

    @property
    def loaded(self) -> bool:
        return self._pipe is not None

    def pipeline(self) -> Any:
        """The diffusers pipeline, loaded on first use and kept."""
        with self._lock:
            if self._pipe is None:
                device = self._device or config.torch_device()
                self._pipe = load_pipeline(self.models_dir, self.settings, device)
            return self._pipe

    def generate(self, attributes: dict[str, str], seed: int, n: int = 1, *,
                 progress: ProgressCallback = no_progress,
                 cancelled: CancelledCheck = never_cancelled) -> list[GeneratedFace]:
        """``n`` gated candidates. Candidate i's first try uses seed + i; each retry adds n, so
        every image comes from a distinct, recorded seed."""
        asked = validate(attributes)
        built = prompt.build(asked)
        pipe = self.pipeline()
        state = {"runs": 0, "per_run": 0, "planned": n}

        def on_step_end(pipe: Any, step: int, timestep: Any, kwargs: dict) -> dict:
            state["per_run"] = pipe.num_timesteps
            done = state["runs"] * state["per_run"] + step + 1
            progress(done, state["per_run"] * state["planned"])
            if cancelled():
                raise Cancelled()
            return kwargs

        faces = []
        for index in range(n):
            for attempt in range(self.settings.max_tries):
                if cancelled():
                    raise Cancelled()
                candidate_seed = seed + index + attempt * n
                image = self._sample(pipe, built, candidate_seed, on_step_end)
                state["runs"] += 1
                try:
                    verdict = self.gate(image)
                except Cancelled:
                    raise
                except EngineError:
                    state["planned"] += 1
                    continue
                face = getattr(verdict, "face", verdict)
                faces.append(GeneratedFace(
                    image=image, face_crop=aligned_crop(image, face.keypoints),
                    seed=candidate_seed, backend=self.name, version=self.version,
                    prompt=built.text, attributes=_attribute_results(asked, verdict)))
                break
            else:
                raise GenerationFailed(
                    f"The Mobius generator made no usable face in {self.settings.max_tries} "
                    "tries; please try again with other settings or seed.")
        return faces

    def _sample(self, pipe: Any, built: prompt.Prompt, seed: int,
                on_step_end: Callable[..., dict]) -> Image:
        import torch

        # The generator lives on the CPU so a seed gives the same start noise on any device.
        generator = torch.Generator("cpu").manual_seed(seed)
        output = pipe(
            prompt=built.text, negative_prompt=built.negative,
            height=self.settings.size, width=self.settings.size,
            num_inference_steps=self.settings.steps, guidance_scale=self.settings.guidance,
            clip_skip=self.settings.clip_skip, generator=generator, output_type="np",
            callback_on_step_end=on_step_end,
        )
        return np.ascontiguousarray((output.images[0] * 255).round().clip(0, 255).astype(np.uint8))
