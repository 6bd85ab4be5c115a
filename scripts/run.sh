#!/usr/bin/env bash
# Run SafeFace locally: the web server and one Celery worker (with its hourly housekeeping beat)
# on the embedded SQLite database and filesystem broker. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-.venv/bin/python}"
CELERY="${CELERY:-.venv/bin/celery}"
GUNICORN="${GUNICORN:-.venv/bin/gunicorn}"
# runserver for a local run; gunicorn (SAFEFACE_SERVER=gunicorn) in the container.
SERVER="${SAFEFACE_SERVER:-runserver}"
HOST="${SAFEFACE_HOST:-127.0.0.1}"
PORT="${SAFEFACE_PORT:-8000}"
DATA_DIR="${SAFEFACE_DATA_DIR:-$PWD/data}"
export SAFEFACE_DATA_DIR="$DATA_DIR"

# Local defaults: no debug pages, plain HTTP on this machine, a secret key kept in data/.
export DJANGO_DEBUG="${DJANGO_DEBUG:-false}"
export SAFEFACE_HTTPS="${SAFEFACE_HTTPS:-false}"
mkdir -p "$DATA_DIR/broker/queue" "$DATA_DIR/broker/processed" "$DATA_DIR/media"
if [ -z "${DJANGO_SECRET_KEY:-}" ]; then
  if [ ! -s "$DATA_DIR/secret_key" ]; then
    (umask 077 && "$PYTHON" -c "import secrets; print(secrets.token_urlsafe(50))" > "$DATA_DIR/secret_key")
  fi
  DJANGO_SECRET_KEY="$(cat "$DATA_DIR/secret_key")"
  export DJANGO_SECRET_KEY
fi

"$PYTHON" manage.py migrate --no-input -v 0
"$PYTHON" manage.py collectstatic --no-input -v 0

pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "Stopping SafeFace…"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

"$CELERY" -A safeface worker --beat --loglevel info --concurrency 1 \
  --schedule "$DATA_DIR/celerybeat-schedule" &
pids+=($!)
if [ "$SERVER" = "gunicorn" ]; then
  "$GUNICORN" safeface.wsgi --bind "$HOST:$PORT" --workers "${SAFEFACE_WEB_WORKERS:-2}" \
    --access-logfile - &
else
  "$PYTHON" manage.py runserver "$HOST:$PORT" --noreload &
fi
pids+=($!)

echo
echo "  SafeFace is running at http://$HOST:$PORT/  (Ctrl-C stops the server and the worker)"
echo

# Whichever stops first (or Ctrl-C) ends the session; the trap stops the other.
wait -n "${pids[@]}"
