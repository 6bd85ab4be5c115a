# SafeFace in one container: web server (gunicorn) and one Celery worker on the embedded broker
# and SQLite under /data. Set DATABASE_URL / CELERY_BROKER_URL to use Postgres / Redis instead.
#   docker build -t safeface .
#   docker run -p 8000:8000 -v safeface-data:/data -e DJANGO_ALLOWED_HOSTS=localhost safeface
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    SAFEFACE_DATA_DIR=/data \
    SAFEFACE_SERVER=gunicorn \
    SAFEFACE_HOST=0.0.0.0 \
    SAFEFACE_PORT=8000 \
    PYTHON=python \
    CELERY=celery \
    GUNICORN=gunicorn

WORKDIR /app

COPY requirements.txt ./
COPY requirements/ requirements/
RUN pip install -c requirements/constraints.txt -r requirements.txt \
 && pip install --no-deps -r requirements/nodeps.txt

COPY . .
RUN useradd --create-home --uid 1000 safeface \
 && mkdir -p /data && chown safeface:safeface /data
USER safeface
VOLUME ["/data"]
EXPOSE 8000

# The container terminates TLS elsewhere or runs behind a proxy: set SAFEFACE_HTTPS=true and
# SAFEFACE_BEHIND_PROXY=true there. Plain HTTP by default so `docker run` works out of the box.
ENV SAFEFACE_HTTPS=false
CMD ["bash", "scripts/run.sh"]
