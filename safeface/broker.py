"""The embedded broker: kombu's filesystem transport, its folders under one directory."""

from pathlib import Path


def filesystem_transport_options(broker_dir: Path) -> dict:
    """Celery's broker_transport_options for a filesystem broker living in ``broker_dir``."""
    return {
        "data_folder_in": str(broker_dir / "queue"),
        "data_folder_out": str(broker_dir / "queue"),
        "processed_folder": str(broker_dir / "processed"),
        "control_folder": str(broker_dir / "control"),
        "store_processed": False,
    }
