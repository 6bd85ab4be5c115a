"""The offline avatar generator: MobileStyleGAN (from the ``random-face`` wheel) on OpenVINO,
steered in its style space ``w`` by a shipped bank of measured latents and a few directions."""

from __future__ import annotations

import importlib.util
import threading
from functools import cache
from pathlib import Path

import numpy as np

from worker.types import Image

STYLE_DIM = 512
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
                from worker.errors import ModelUnavailable

                raise ModelUnavailable("The random-face package (MobileStyleGAN) is not installed.")
            _networks = Networks(folder)
        return _networks


def z_for(seed: int) -> np.ndarray:
    """The latent z for a seed: a reproducible standard-normal [1, 512] draw."""
    return np.random.default_rng(seed).standard_normal((1, STYLE_DIM)).astype(np.float32)
