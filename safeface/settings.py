"""SafeFace settings, all from environment variables (see README, "Configuration").

Defaults give a self-contained install: SQLite and a filesystem Celery broker under DATA_DIR.
Production sets DATABASE_URL (Postgres) and CELERY_BROKER_URL (Redis).
"""

from pathlib import Path

import environ

from safeface.broker import filesystem_transport_options

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

DATA_DIR = Path(env("SAFEFACE_DATA_DIR", default=str(BASE_DIR / "data")))

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-dev-key-change-me" if DEBUG else None) or ""
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "tailwind",
    "theme",
    "safeface",
    "accounts",
    "jobs",
    "avatars",
    "swaps",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "safeface.middleware.HtmxLoginRedirectMiddleware",
]

ROOT_URLCONF = "safeface.urls"
WSGI_APPLICATION = "safeface.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

CACHES = {"default": env.cache("CACHE_URL", default=env("REDIS_URL", default="locmemcache://"))}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "gallery"
LOGOUT_REDIRECT_URL = "home"

# HTTPS hardening is on whenever DEBUG is off, unless SAFEFACE_HTTPS=false (plain-HTTP local runs).
SAFEFACE_HTTPS = env.bool("SAFEFACE_HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = SAFEFACE_HTTPS
SESSION_COOKIE_SECURE = SAFEFACE_HTTPS
CSRF_COOKIE_SECURE = SAFEFACE_HTTPS
SECURE_HSTS_SECONDS = env.int("SAFEFACE_HSTS_SECONDS", default=31536000 if SAFEFACE_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SAFEFACE_HTTPS
SECURE_HSTS_PRELOAD = SAFEFACE_HTTPS
if env.bool("SAFEFACE_BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SESSION_COOKIE_HTTPONLY = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'safeface.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# Users' files: private, never served as static or media; every file leaves through an
# owner-checking view.
PRIVATE_MEDIA_ROOT = Path(env("SAFEFACE_MEDIA_ROOT", default=str(DATA_DIR / "media")))
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Celery: a filesystem broker under DATA_DIR unless CELERY_BROKER_URL names a server.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_DIR = DATA_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_transport_options(CELERY_BROKER_DIR)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("SAFEFACE_TASK_SOFT_TIME_LIMIT", default=30 * 60)
CELERY_TASK_TIME_LIMIT = env.int("SAFEFACE_TASK_TIME_LIMIT", default=35 * 60)
# Run by the worker's embedded beat (scripts/run.sh starts the worker with --beat).
CELERY_BEAT_SCHEDULE = {"housekeeping": {"task": "jobs.housekeeping", "schedule": 60 * 60}}
# Unpicked avatar candidates are deleted a day after their generation.
CELERY_BEAT_SCHEDULE["avatar-candidates"] = {"task": "avatars.cleanup_candidates", "schedule": 60 * 60}
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

# The data export zip can be downloaded for this long, then it is deleted.
SAFEFACE_EXPORT_TTL_HOURS = env.int("SAFEFACE_EXPORT_TTL_HOURS", default=24)

TAILWIND_APP_NAME = "theme"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("SAFEFACE_LOG_LEVEL", default="INFO")},
}

# Engines: a backend name per capability, or "best" for the best one installed.
SAFEFACE_MODELS_DIR = Path(env("SAFEFACE_MODELS_DIR", default=str(BASE_DIR / "models")))
SAFEFACE_GENERATE_ENGINE = env("SAFEFACE_GENERATE_ENGINE", default="best")
SAFEFACE_SWAP_ENGINE = env("SAFEFACE_SWAP_ENGINE", default="best")

# Swap uploads: limits checked before any heavy work; uploads over 256 KB stream to a temp file.
SAFEFACE_MAX_IMAGE_BYTES = env.int("SAFEFACE_MAX_IMAGE_BYTES", default=25 * 1024 * 1024)
SAFEFACE_MAX_IMAGE_PIXELS = env.int("SAFEFACE_MAX_IMAGE_PIXELS", default=40_000_000)
SAFEFACE_MAX_VIDEO_BYTES = env.int("SAFEFACE_MAX_VIDEO_BYTES", default=500 * 1024 * 1024)
SAFEFACE_MAX_VIDEO_SECONDS = env.float("SAFEFACE_MAX_VIDEO_SECONDS", default=10 * 60)
SAFEFACE_MAX_VIDEO_SIDE = env.int("SAFEFACE_MAX_VIDEO_SIDE", default=3840)  # 4K UHD's long side
SAFEFACE_TARGET_TTL_HOURS = env.int("SAFEFACE_TARGET_TTL_HOURS", default=24)
FILE_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024

# Avatar builder: how many avatars one user may keep, and candidates per Generate press.
SAFEFACE_MAX_AVATARS = env.int("SAFEFACE_MAX_AVATARS", default=24)
SAFEFACE_GENERATE_COUNT = env.int("SAFEFACE_GENERATE_COUNT", default=4)
