"""An export job end to end through a real Celery worker process on a real broker.

The worker runs the production settings module against this test run's database and private
files (passed by environment), so it sees the rows the test writes and writes the zip the test
then downloads. Filesystem broker always; Redis too when SAFEFACE_TEST_REDIS_URL is set.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from kombu import pools

from jobs.models import Job
from safeface.broker import filesystem_transport_options
from safeface.celery import app
from tests.avatars.factories import AvatarFactory
from tests.factories import UserFactory

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 120


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        name = str(db["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            pytest.skip("the test database is in memory: a worker process cannot share it")
        return f"sqlite:///{name}"
    if "postgresql" in db["ENGINE"]:
        auth = quote(db["USER"] or "", safe="")
        if db["PASSWORD"]:
            auth += ":" + quote(db["PASSWORD"], safe="")
        host = db["HOST"] or "localhost"
        port = f":{db['PORT']}" if db["PORT"] else ""
        return f"postgres://{auth}@{host}{port}/{db['NAME']}"
    pytest.skip(f"no URL form for {db['ENGINE']}")


def _brokers() -> list:
    params = [pytest.param("filesystem://", id="filesystem")]
    redis_url = os.environ.get("SAFEFACE_TEST_REDIS_URL")
    params.append(
        pytest.param(
            redis_url or "redis://", id="redis",
            marks=pytest.mark.skipif(not redis_url, reason="SAFEFACE_TEST_REDIS_URL is not set"),
        )
    )
    return params


@pytest.fixture(params=_brokers())
def worker(request, tmp_path):
    """A `celery worker` subprocess on the chosen broker; the test process sends to it too."""
    broker_url = request.param
    data_dir = tmp_path / "data"
    broker_dir = data_dir / "broker"
    for folder in ("queue", "processed"):
        (broker_dir / folder).mkdir(parents=True)
    queue = f"test-{uuid.uuid4().hex[:8]}"  # a queue of its own on a shared Redis
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "safeface.settings",
        "DJANGO_SECRET_KEY": "integration-test-" + "x" * 40,
        "DJANGO_DEBUG": "false",
        "SAFEFACE_DATA_DIR": str(data_dir),
        "SAFEFACE_MEDIA_ROOT": str(settings.PRIVATE_MEDIA_ROOT),
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": broker_url,
    }
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "safeface", "worker", "--loglevel", "info",
         "--concurrency", "1", "--queues", queue, "--hostname", f"{queue}@%h",
         "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )

    keys = ("broker_url", "broker_transport_options", "task_always_eager", "task_default_queue")
    saved = {key: app.conf[key] for key in keys}
    options = {}
    if broker_url.startswith("filesystem://"):
        options = filesystem_transport_options(broker_dir)
    app.conf.update(
        broker_url=broker_url, broker_transport_options=options,
        task_always_eager=False, task_default_queue=queue,
    )
    _reset_connections()
    try:
        yield process, tmp_path / "worker.log"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        app.conf.update(saved)
        _reset_connections()


def _reset_connections() -> None:
    """Drop pooled broker connections so the next send uses the broker now configured.

    kombu keeps pools in global registries keyed by connection: closing one without clearing
    the registry would leave later tests a closed pool.
    """
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def test_export_runs_from_queued_to_succeeded_in_a_worker_process(client, worker):
    process, log_path = worker
    user = UserFactory()
    avatar = AvatarFactory(owner=user)
    client.force_login(user)

    response = client.post(reverse("jobs:export"))
    job = Job.objects.get(owner=user, kind=Job.Kind.EXPORT)
    assert response.url == reverse("jobs:status", args=[job.id])
    assert job.status == Job.Status.QUEUED  # nothing ran in this process

    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        job.refresh_from_db()
        if job.is_finished:
            break
        time.sleep(0.2)
    log = log_path.read_text()
    assert job.status == Job.Status.SUCCEEDED, f"{job.status}: {job.message}\n{log[-3000:]}"
    assert job.started_at and job.finished_at and job.progress == 100

    fragment = client.get(reverse("jobs:status", args=[job.id]), HTTP_HX_REQUEST="true")
    assert fragment.status_code == 286
    assert reverse("jobs:download", args=[job.id]) in fragment.content.decode()

    download = client.get(reverse("jobs:download", args=[job.id]))
    assert download.status_code == 200
    bundle = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    records = json.loads(bundle.read("records.json"))
    assert [a["id"] for a in records["avatars"]] == [str(avatar.pk)]
    assert bundle.read(records["avatars"][0]["image"])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "jobs.export_data" in log and "succeeded" in log
