"""`check --deploy` with production variables complains only about what a deployment must set."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _check_deploy(tmp_path, **extra) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SAFEFACE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="safeface.settings", DJANGO_DEBUG="false",
        SAFEFACE_DATA_DIR=str(tmp_path), **extra,
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    return result.stdout + result.stderr


def test_without_a_secret_key_only_the_key_is_reported(tmp_path):
    output = _check_deploy(tmp_path)
    assert "security.W009" in output  # the secret key
    assert "1 issue" in output, output


def test_with_a_secret_key_nothing_is_reported(tmp_path):
    output = _check_deploy(tmp_path, DJANGO_SECRET_KEY="k3y-" + "aZ9x" * 15)
    assert "no issues" in output, output
