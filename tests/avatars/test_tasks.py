"""The generation task end to end: the real offline engine stores candidates one by one; an
engine failure ends the job with its message; cancel stops between candidates."""

import io

import numpy as np
import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.urls import reverse
from PIL import Image

from avatars import services
from avatars.models import Avatar, Candidate, Generation
from avatars.tasks import TIMEOUT_MESSAGE
from jobs.models import Job
from jobs.services import job_cancel
from tests.avatars.conftest import FLAT
from tests.avatars.factories import stored_bytes
from tests.factories import UserFactory
from worker import registry
from worker.errors import GenerationFailed

pytestmark = pytest.mark.django_db


def _start(user, capture, **kwargs) -> Generation:
    with capture(execute=True):
        generation = services.generation_create(user=user, **kwargs)
    generation.refresh_from_db()
    generation.job.refresh_from_db()
    return generation


@pytest.fixture
def offline_engine(settings):
    if not registry.is_available("generate", "stylegan-offline"):
        pytest.skip("the offline generator (random-face + openvino) is not installed")
    settings.SAFEFACE_GENERATE_ENGINE = "stylegan-offline"


def test_real_offline_engine_end_to_end(client, offline_engine, django_capture_on_commit_callbacks):
    user = UserFactory()
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("avatars:builder"), {"action": "generate", "count": "2", "glasses": "none"}
        )
    generation = Generation.objects.get(owner=user)
    assert response["Location"] == reverse("avatars:generation", args=[generation.pk])
    job = Job.objects.get(pk=generation.job_id)
    assert (job.status, job.progress) == (Job.Status.SUCCEEDED, 100), job.message
    assert generation.engine == "stylegan-offline"
    candidates = list(generation.candidates.all())
    assert [c.index for c in candidates] == [0, 1]
    assert len({c.seed for c in candidates}) == 2
    portraits = []
    for candidate in candidates:
        assert candidate.engine == "stylegan-offline" and candidate.engine_version
        image = np.asarray(Image.open(io.BytesIO(stored_bytes(candidate.image))).convert("RGB"))
        crop = Image.open(io.BytesIO(stored_bytes(candidate.face_crop)))
        assert image.shape[0] == image.shape[1] >= 256 and crop.width == crop.height
        assert image.std() > 20  # a picture, not a blank
        assert candidate.honoured["glasses"]["asked"] == "none"
        portraits.append(image)
    assert not np.array_equal(portraits[0], portraits[1])

    page = client.get(reverse("avatars:generation", args=[generation.pk]), HTTP_HX_REQUEST="true")
    assert page.status_code == 286
    assert page.content.decode().count("data-candidate=") == 2

    saved = client.post(
        reverse("avatars:candidate_save", args=[candidates[1].pk]), {"name": "Nova"}
    )
    avatar = Avatar.objects.get(owner=user)
    assert saved["Location"] == reverse("avatars:detail", args=[avatar.pk])
    assert (avatar.engine, avatar.seed) == ("stylegan-offline", candidates[1].seed)
    assert stored_bytes(avatar.image) == stored_bytes(candidates[1].image)
    detail = client.get(reverse("avatars:detail", args=[avatar.pk])).content.decode()
    assert "Nova" in detail and "stylegan-offline" in detail


def test_engine_failure_ends_the_job_with_its_message(
    broken_engine, django_capture_on_commit_callbacks
):
    generation = _start(UserFactory(), django_capture_on_commit_callbacks, attributes={}, count=2)
    assert generation.job.status == Job.Status.FAILED
    assert generation.job.message == "The test generator could not make a face."
    assert not Candidate.objects.exists()
    assert not Avatar.objects.exists()


def test_failure_message_shows_in_the_builder(
    client, broken_engine, django_capture_on_commit_callbacks
):
    user = UserFactory()
    client.force_login(user)
    generation = _start(user, django_capture_on_commit_callbacks, attributes={}, count=1)
    html = client.get(reverse("avatars:generation", args=[generation.pk])).content.decode()
    assert "The test generator could not make a face." in html
    assert "Generate more" in html


def test_candidates_are_stored_one_by_one_with_progress(
    flat_engine, django_capture_on_commit_callbacks
):
    seen = []

    def record_progress():
        job = Job.objects.get(kind=Job.Kind.GENERATE)
        seen.append((job.progress, Candidate.objects.count()))

    flat_engine.before_each = staticmethod(record_progress)
    generation = _start(
        UserFactory(),
        django_capture_on_commit_callbacks,
        attributes={"glasses": "glasses"},
        count=3,
        seed=7,
    )
    assert seen == [(0, 0), (33, 1), (66, 2)]
    assert generation.job.status == Job.Status.SUCCEEDED
    candidates = list(generation.candidates.all())
    assert [c.seed for c in candidates] == [7, 1007, 2007]
    assert all(c.engine == FLAT for c in candidates)
    with Image.open(io.BytesIO(stored_bytes(candidates[0].image))) as portrait:
        assert "AI-generated" in portrait.info["Description"]
        assert FLAT in portrait.info["Description"]
        # The engine drew a flat square: anything else on it is the visible AI-made badge.
        assert len(np.unique(np.asarray(portrait.convert("RGB")).reshape(-1, 3), axis=0)) > 1
    assert candidates[0].honoured["glasses"] == {
        "asked": "glasses",
        "measured": "none",
        "honoured": False,
    }


def test_a_face_the_engine_cannot_make_is_skipped(flat_engine, django_capture_on_commit_callbacks):
    calls = []

    def fail_the_second_face():
        calls.append(1)
        if len(calls) == 2:
            raise GenerationFailed("No face passed the gate.")

    flat_engine.before_each = staticmethod(fail_the_second_face)
    generation = _start(UserFactory(), django_capture_on_commit_callbacks, attributes={}, count=3)
    assert generation.job.status == Job.Status.SUCCEEDED
    assert generation.job.message.startswith("2 of 3 faces ready")
    assert list(generation.candidates.values_list("index", flat=True)) == [0, 2]


def test_a_generation_past_its_time_limit_ends_with_a_clear_message(
    flat_engine, django_capture_on_commit_callbacks
):
    def time_is_up():
        # What Celery raises inside the task when its soft time limit passes.
        raise SoftTimeLimitExceeded()

    flat_engine.before_each = staticmethod(time_is_up)
    generation = _start(UserFactory(), django_capture_on_commit_callbacks, attributes={}, count=2)
    assert generation.job.status == Job.Status.FAILED
    assert generation.job.message == TIMEOUT_MESSAGE
    assert not Candidate.objects.exists()


def test_cancel_stops_between_candidates(flat_engine, django_capture_on_commit_callbacks):
    calls = []

    def cancel_on_second_face():
        calls.append(1)
        if len(calls) == 2:
            # The user presses Cancel while the engine makes the second face.
            job_cancel(job=Job.objects.get(kind=Job.Kind.GENERATE))

    flat_engine.before_each = staticmethod(cancel_on_second_face)
    generation = _start(UserFactory(), django_capture_on_commit_callbacks, attributes={}, count=4)
    assert generation.job.status == Job.Status.CANCELLED
    assert len(calls) == 2
    # The face made while cancelling is dropped; the one before it stays to be picked.
    assert list(generation.candidates.values_list("index", flat=True)) == [0]


def test_a_new_generation_cancels_the_unfinished_one(
    flat_engine, django_capture_on_commit_callbacks
):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=False):
        first = services.generation_create(user=user, attributes={}, count=1)
    second = _start(user, django_capture_on_commit_callbacks, attributes={}, count=1)
    first.job.refresh_from_db()
    assert first.job.status == Job.Status.CANCELLED
    assert second.job.status == Job.Status.SUCCEEDED
