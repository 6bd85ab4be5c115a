"""Test settings: eager Celery, private files in a temp folder, fast password hashing."""
import tempfile
from pathlib import Path

from safeface.settings import *  # noqa: F403

_TMP = Path(tempfile.mkdtemp(prefix="safeface-test-"))
DATA_DIR = _TMP
SECRET_KEY = "test-secret-key"
DEBUG = False
PRIVATE_MEDIA_ROOT = _TMP / "media"
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
# Plain HTTP in tests; static files straight from the app folders (no collectstatic).
SAFEFACE_HTTPS = False
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
STATIC_ROOT = _TMP / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
CELERY_BEAT_SCHEDULE_FILENAME = str(_TMP / "celerybeat-schedule")
# A file (not in-memory) SQLite test database, so a real worker process can share it
# (tests/integration); Postgres test databases are shared by name already.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {"NAME": str(_TMP / "test.sqlite3")}
