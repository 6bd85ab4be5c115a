"""``manage.py safeface_models status|pull [names]``: which engines are installed and active,
under which licence, and download the production engines' weights at pinned revisions."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from worker import config, models_catalog, registry
from worker.errors import ModelUnavailable

COMMERCIAL_NOTE = (
    "Commercial use: only Mobius (generation) with the landmark swapper (swapping) is a path "
    "whose model licences allow it. The offline generator is distilled from NVIDIA's "
    "non-commercial StyleGAN2-FFHQ weights, and insightface's inswapper_128 and buffalo_l are "
    "for non-commercial research only."
)


def active_engine(capability: str, wanted: str) -> str:
    """What the app will use for a capability: the configured name, or the best installed."""
    if wanted != "best":
        state = "installed" if registry.is_available(capability, wanted) else "NOT installed"
        return f"{wanted} (configured; {state})"
    try:
        return f"{registry.best_name(capability)} (best installed)"
    except ModelUnavailable:
        return "none installed"


class Command(BaseCommand):
    help = "Show the face engines' model files and licences, or download them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=("status", "pull"))
        parser.add_argument("names", nargs="*",
                            help="engines to pull (default: every downloadable one)")

    def handle(self, *args: Any, action: str, names: list[str], **options: Any) -> None:
        if action == "pull":
            self.pull(names)
        else:
            self.status()

    def status(self) -> None:
        root = config.models_dir()
        rows = [("ENGINE", "CAPABILITY", "PRESENT", "COMMERCIAL", "LICENCE", "WHERE")]
        for engine in models_catalog.ENGINES:
            rows.append((engine.name, engine.capability, "yes" if engine.present(root) else "no",
                         "yes" if engine.commercial_use else "no", engine.licence,
                         engine.where(root)))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
            self.stdout.write("  ".join([*cells, row[-1]]).rstrip())
        self.stdout.write("")
        self.stdout.write(f"Models folder (SAFEFACE_MODELS_DIR): {root}")
        self.stdout.write("Active for generation: "
                          + active_engine("generate", settings.SAFEFACE_GENERATE_ENGINE))
        self.stdout.write("Active for swapping: "
                          + active_engine("swap", settings.SAFEFACE_SWAP_ENGINE))
        self.stdout.write("")
        self.stdout.write(COMMERCIAL_NOTE)

    def pull(self, names: list[str]) -> None:
        try:
            placed = models_catalog.pull(names, progress=self.stdout.write)
        except ValueError as error:
            raise CommandError(str(error)) from error
        except ModuleNotFoundError as error:
            raise CommandError(
                f"{error.name} is needed to download models: "
                "pip install -r requirements/gpu.txt") from error
        except models_catalog.ModelFileError as error:
            raise CommandError(f"A download failed its check and was removed: {error}") from error
        self.stdout.write(f"Done: {len(placed)} file(s) placed.")
