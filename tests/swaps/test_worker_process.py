"""Swaps through a real Celery worker process on the embedded (filesystem) broker.

Uses the integration harness of tests/integration/test_worker.py (its ``worker`` fixture), so
the worker runs the production settings against this test run's database and files.
"""

from __future__ import annotations

import time

import av
import pytest
from django.urls import reverse
from PIL import Image

from jobs.models import Job
from swaps import services
from swaps.models import Swap
from tests.integration.test_worker import worker  # noqa: F401  (the fixture)
from tests.swaps.conftest import upload

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WAIT_SECONDS = 180


def wait_for(swaps: list[Swap], process) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        for swap in swaps:
            swap.job.refresh_from_db()
        if all(swap.job.is_finished for swap in swaps):
            return
        time.sleep(0.3)


@pytest.mark.parametrize("worker", ["filesystem://"], indirect=True)
def test_photo_and_video_swaps_in_a_worker_process(client, worker, user, avatar,  # noqa: F811
                                                   astronaut_jpeg, clips):
    process, log_path = worker
    client.force_login(user)
    photo = services.target_create(owner=user, upload=upload("me.jpg", astronaut_jpeg))
    video = services.target_create(owner=user, upload=upload("clip.mov",
                                                             clips["mov"].read_bytes()))
    made = []
    for target in (photo, video):
        response = client.post(reverse("swaps:target", args=[target.pk]),
                               {"faces": ["0"], "avatar": avatar.pk, "feather": 50,
                                "colour_match": 100, "keep_audio": "on"})
        swap = Swap.objects.get(target=target)
        assert response.url == reverse("swaps:detail", args=[swap.pk])
        assert swap.job.status == Job.Status.QUEUED  # nothing ran in this process
        made.append(swap)

    wait_for(made, process)
    log = log_path.read_text()
    for swap in made:
        assert swap.job.status == Job.Status.SUCCEEDED, f"{swap.job.message}\n{log[-3000:]}"
        fragment = client.get(reverse("swaps:detail", args=[swap.pk]),
                              HTTP_HX_REQUEST="true", HTTP_HX_TARGET="swap-status")
        assert fragment.status_code == 286
        download = client.get(reverse("swaps:download", args=[swap.pk]))
        assert download.status_code == 200
        swap.refresh_from_db()
    photo_swap, video_swap = made
    assert Image.open(photo_swap.output.open("rb")).size == (512, 512)
    with av.open(video_swap.output.path) as container:
        assert container.streams.video[0].frames == 12
        assert len(container.streams.audio) == 1
    assert "swaps.swap_run" in log and "succeeded" in log
