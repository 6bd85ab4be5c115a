"""Engine configuration from environment variables, with no Django: where model files live,
which device runs the production engines, and the Mobius sampler settings."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

# Mobius model card (Corcelio/mobius): 1024x1024, CLIP skip 3, CFG 3.5 (realism) to 7, 50 steps
# of KDPM2 Ancestral. 5.0 sits between realism and following a prompt with a dozen attributes.
DEFAULT_GUIDANCE = 5.0
DEFAULT_STEPS = 50
FAST_STEPS = 25
SAMPLERS = ("kdpm2-ancestral", "dpmpp-2m-karras")


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def models_dir() -> Path:
    """Where downloaded model files live (SAFEFACE_MODELS_DIR, the same variable Django reads)."""
    return Path(os.environ.get("SAFEFACE_MODELS_DIR") or REPO_ROOT / "models")


def cuda_available() -> bool:
    """Whether torch is importable and sees a CUDA device."""
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def torch_device() -> str:
    """The device the torch engines run on: cuda when present, else cpu."""
    return "cuda" if cuda_available() else "cpu"


@dataclass(frozen=True)
class MobiusSettings:
    """How the Mobius pipeline samples. ``sampler`` is "kdpm2-ancestral" (the card's) or
    "dpmpp-2m-karras" (about four times fewer UNet calls at 25 steps; see docs/models.md)."""

    steps: int = DEFAULT_STEPS
    guidance: float = DEFAULT_GUIDANCE
    sampler: str = "kdpm2-ancestral"
    size: int = 1024
    clip_skip: int = 3
    cpu_offload: bool = False
    allow_cpu: bool = False
    max_tries: int = 4

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS:
            raise ValueError(f"unknown sampler {self.sampler!r}; choose one of {SAMPLERS}")
        if self.steps < 1 or self.size % 8 or self.max_tries < 1:
            raise ValueError("steps and max_tries must be positive and size a multiple of 8")


def mobius_settings() -> MobiusSettings:
    """Mobius settings from SAFEFACE_MOBIUS_* variables; unset ones keep the card's values."""
    sampler = os.environ.get("SAFEFACE_MOBIUS_SAMPLER") or "kdpm2-ancestral"
    default_steps = FAST_STEPS if sampler == "dpmpp-2m-karras" else DEFAULT_STEPS
    return MobiusSettings(
        steps=int(os.environ.get("SAFEFACE_MOBIUS_STEPS") or default_steps),
        guidance=float(os.environ.get("SAFEFACE_MOBIUS_GUIDANCE") or DEFAULT_GUIDANCE),
        sampler=sampler,
        size=int(os.environ.get("SAFEFACE_MOBIUS_SIZE") or 1024),
        cpu_offload=_flag("SAFEFACE_MOBIUS_CPU_OFFLOAD"),
        allow_cpu=_flag("SAFEFACE_MOBIUS_ALLOW_CPU"),
        max_tries=int(os.environ.get("SAFEFACE_MOBIUS_MAX_TRIES") or 4),
    )
