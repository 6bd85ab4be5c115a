"""The swap task end to end with the real offline engine: photo and video, cancel, failures."""

from __future__ import annotations

import glob
import io
import tempfile

import av
import numpy as np
import pytest
from PIL import Image

from jobs import services as job_services
from jobs.models import Job
from jobs.runner import MAX_ATTEMPTS
from swaps import services
from swaps.models import Swap
from swaps.tasks import swap_run
from tests.swaps.conftest import upload
from tests.worker.videoutil import read_frames

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def image_target(user, astronaut_jpeg):
    return services.target_create(owner=user, upload=upload("me.jpg", astronaut_jpeg))


@pytest.fixture
def video_target(user, clips):
    return services.target_create(owner=user, upload=upload("clip.mp4", clips["mp4"].read_bytes()))


def request_and_run(capture, *, user, target, avatar, **options) -> Swap:
    with capture(execute=True):
        swap = services.swap_request(owner=user, target=target, avatar=avatar,
                                     faces=options.pop("faces", "all"), **options)
    swap.refresh_from_db()
    swap.job.refresh_from_db()
    return swap


def stored_files(swap: Swap) -> list[str]:
    storage = swap.output.storage
    folder = f"users/{swap.owner_id}/swaps/{swap.pk}"
    return storage.listdir(folder)[1] if storage.exists(folder) else []


def assert_no_workdir(job: Job) -> None:
    assert glob.glob(f"{tempfile.gettempdir()}/safeface-job-{job.pk}-*") == []


def test_photo_swap(user, avatar, image_target, astronaut,
                    django_capture_on_commit_callbacks):
    swap = request_and_run(django_capture_on_commit_callbacks, user=user, target=image_target,
                           avatar=avatar)
    assert swap.job.status == Job.Status.SUCCEEDED, swap.job.message
    assert swap.job.message == "Your swap is ready." and swap.job.progress == 100
    assert swap.output.name.endswith(f"safeface-{swap.pk}.jpg")
    assert swap.engine and swap.engine_version
    result = np.asarray(Image.open(swap.output.open("rb")).convert("RGB")).astype(int)
    before = np.asarray(Image.open(image_target.file.open("rb")).convert("RGB")).astype(int)
    assert result.shape == before.shape == astronaut.shape
    x0, y0, x1, y1 = (int(v) for v in image_target.faces[0]["box"])
    inner = (slice(y0 + (y1 - y0) // 4, y1 - (y1 - y0) // 4),
             slice(x0 + (x1 - x0) // 4, x1 - (x1 - x0) // 4))
    assert np.abs(result[inner] - before[inner]).mean() > 8  # the face was replaced
    # Far from the face (the suit, away from the corner badge) only JPEG noise remains.
    body = (slice(330, 470), slice(60, 330))
    assert np.abs(result[body] - before[body]).mean() < 3
    with Image.open(swap.output.open("rb")) as stored:
        assert "SafeFace" in str(stored.info.get("comment", b""))  # provenance metadata
    assert swap.thumbnail and Image.open(swap.thumbnail.open("rb")).size[0] <= 640
    assert_no_workdir(swap.job)


def test_photo_swap_of_a_face_the_user_unticked_changes_nothing_there(
        user, avatar, image_target, django_capture_on_commit_callbacks):
    # One face only, chosen by index: the task maps it to the fresh analysis by box.
    swap = request_and_run(django_capture_on_commit_callbacks, user=user, target=image_target,
                           avatar=avatar, faces=[0])
    assert swap.job.status == Job.Status.SUCCEEDED, swap.job.message


def test_video_swap(user, avatar, video_target, clips, django_capture_on_commit_callbacks):
    swap = request_and_run(django_capture_on_commit_callbacks, user=user, target=video_target,
                           avatar=avatar, keep_audio=True)
    assert swap.job.status == Job.Status.SUCCEEDED, swap.job.message
    assert swap.output.name.endswith(f"safeface-{swap.pk}.mp4")
    with av.open(swap.output.path) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert len(container.streams.audio) == 1
    before, after = read_frames(clips["mp4"]), read_frames(swap.output.path)
    assert len(after) == len(before) == 12
    x0, y0, x1, y1 = (int(v) for v in video_target.faces[0]["box"])
    changed = np.abs(after[0][y0:y1, x0:x1].astype(int) - before[0][y0:y1, x0:x1]).mean()
    assert changed > 8
    assert_no_workdir(swap.job)


def test_video_swap_can_drop_the_audio(user, avatar, video_target,
                                       django_capture_on_commit_callbacks):
    swap = request_and_run(django_capture_on_commit_callbacks, user=user, target=video_target,
                           avatar=avatar, keep_audio=False)
    assert swap.job.status == Job.Status.SUCCEEDED, swap.job.message
    with av.open(swap.output.path) as container:
        assert len(container.streams.audio) == 0


def test_video_progress_says_frames_and_time_left():
    reports = []
    progress = services._video_progress(lambda done, total, message: reports.append(message))
    progress(1, 10)
    progress(10, 10)
    assert reports[0].startswith("Frame 1 of 10, about ") and reports[0].endswith(" s left.")
    assert reports[-1].startswith("Frame 10 of 10")


def test_cancel_mid_video(user, avatar, video_target, monkeypatch,
                          django_capture_on_commit_callbacks):
    # The user presses Cancel as soon as the first frames are reported.
    report = job_services.job_progress

    def progress_then_cancel(*, job_id, progress, message=None):
        report(job_id=job_id, progress=progress, message=message)
        if message and message.startswith("Frame"):
            job_services.job_cancel(job=Job.objects.get(pk=job_id))

    monkeypatch.setattr(job_services, "job_progress", progress_then_cancel)
    swap = request_and_run(django_capture_on_commit_callbacks, user=user, target=video_target,
                           avatar=avatar)
    assert swap.job.status == Job.Status.CANCELLED
    assert not swap.output and stored_files(swap) == []
    assert_no_workdir(swap.job)


def test_cancelled_before_it_starts(user, avatar, image_target,
                                    django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        swap = services.swap_request(owner=user, target=image_target, avatar=avatar, faces="all")
    job_services.job_cancel(job=swap.job)
    for callback in callbacks:
        callback()
    swap.refresh_from_db()
    assert swap.job.status == Job.Status.CANCELLED and not swap.output


def test_avatar_without_a_face_fails_clearly(user, image_target,
                                             django_capture_on_commit_callbacks):
    from tests.avatars.factories import AvatarFactory

    faceless = AvatarFactory(owner=user)  # a plain gradient
    swap = request_and_run(django_capture_on_commit_callbacks, user=user, target=image_target,
                           avatar=faceless)
    assert swap.job.status == Job.Status.FAILED
    assert swap.job.message == "No face was found in this picture."
    assert not swap.output and stored_files(swap) == []
    assert_no_workdir(swap.job)


def test_target_deleted_before_the_swap_runs(user, avatar, image_target,
                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        swap = services.swap_request(owner=user, target=image_target, avatar=avatar, faces="all")
    services.target_delete(target=image_target)
    for callback in callbacks:
        callback()
    swap.refresh_from_db()
    assert swap.job.status == Job.Status.FAILED
    assert "no longer kept" in swap.job.message
    assert not swap.output


def test_redelivered_job_past_its_attempts_fails_clearly(user, avatar, image_target,
                                                         django_capture_on_commit_callbacks):
    # A worker died twice while running this job; the broker delivers it once more.
    with django_capture_on_commit_callbacks(execute=False):
        swap = services.swap_request(owner=user, target=image_target, avatar=avatar, faces="all")
    Job.objects.filter(pk=swap.job.pk).update(status=Job.Status.RUNNING, attempts=MAX_ATTEMPTS)
    swap_run(str(swap.job.pk))
    swap.refresh_from_db()
    assert swap.job.status == Job.Status.FAILED
    assert swap.job.message == job_services.LOST_MESSAGE
    assert not swap.output and stored_files(swap) == []


def test_output_stored_before_a_late_failure_is_removed(user, avatar, image_target, monkeypatch,
                                                        django_capture_on_commit_callbacks):
    # The job is cancelled just as the output is being stored: nothing half-made stays.
    from jobs import runner

    monkeypatch.setattr(runner.services, "job_succeed",
                        lambda *, job_id, message: job_services.job_mark_cancelled(job_id=job_id))
    swap = request_and_run(django_capture_on_commit_callbacks, user=user, target=image_target,
                           avatar=avatar)
    assert swap.job.status == Job.Status.CANCELLED
    assert not swap.output and stored_files(swap) == []


def test_output_is_a_real_jpeg(user, avatar, image_target, django_capture_on_commit_callbacks):
    swap = request_and_run(django_capture_on_commit_callbacks, user=user, target=image_target,
                           avatar=avatar)
    data = swap.output.open("rb").read()
    assert data[:3] == b"\xff\xd8\xff"
    Image.open(io.BytesIO(data)).verify()
