"""Export my data: the zip's contents, progress, download by the owner only, expiry."""

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from jobs import exports
from jobs.models import Job
from tests.avatars.factories import AvatarFactory, stored_bytes
from tests.factories import JobFactory, UserFactory
from tests.swaps.factories import SwapFactory

pytestmark = pytest.mark.django_db


def _export(client, django_capture_on_commit_callbacks) -> Job:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("jobs:export"))
    assert response.status_code == 302
    return Job.objects.get(pk=response.url.split("/")[-3])


def _zip(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


@pytest.fixture
def user_with_things():
    user = UserFactory()
    avatar = AvatarFactory(owner=user, attributes={"age": "30s", "glasses": "glasses"})
    swap = SwapFactory(owner=user, avatar=avatar)
    return user, avatar, swap


def test_export_zip_holds_every_file_and_record(
    client, django_capture_on_commit_callbacks, user_with_things
):
    user, avatar, swap = user_with_things
    someone_else = AvatarFactory()
    client.force_login(user)

    job = _export(client, django_capture_on_commit_callbacks)
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.progress == 100
    assert job.expires_at > timezone.now() + timedelta(hours=23)
    assert job.output.name.startswith(f"exports/{user.pk}/")

    response = client.get(reverse("jobs:download", args=[job.id]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    bundle = _zip(response)
    names = set(bundle.namelist())

    records = json.loads(bundle.read("records.json"))
    assert records["account"]["username"] == user.username
    [avatar_record] = records["avatars"]
    assert avatar_record["id"] == str(avatar.pk)
    assert avatar_record["attributes"] == {"age": "30s", "glasses": "glasses"}
    assert bundle.read(avatar_record["image"]) == stored_bytes(avatar.image)
    assert bundle.read(avatar_record["face_crop"]) == stored_bytes(avatar.face_crop)
    [swap_record] = records["swaps"]
    assert swap_record["avatar"] == str(avatar.pk)
    assert bundle.read(swap_record["output"]) == stored_bytes(swap.output)
    assert {r["id"] for r in records["jobs"]} >= {str(job.pk), str(swap.job.pk)}
    # Only this user's things, and no earlier export inside the export.
    assert str(someone_else.pk) not in json.dumps(records)
    assert not any(name.startswith("exports/") for name in names)


def test_another_user_cannot_download_an_export(
    client, django_capture_on_commit_callbacks, user_with_things
):
    user, _, _ = user_with_things
    client.force_login(user)
    job = _export(client, django_capture_on_commit_callbacks)

    client.force_login(UserFactory())
    assert client.get(reverse("jobs:download", args=[job.id])).status_code == 404
    assert client.get(reverse("jobs:status", args=[job.id])).status_code == 404


def test_expired_export_is_refused_and_cleaned_up(
    client, django_capture_on_commit_callbacks, user_with_things
):
    user, _, _ = user_with_things
    client.force_login(user)
    job = _export(client, django_capture_on_commit_callbacks)
    path = Path(settings.PRIVATE_MEDIA_ROOT) / job.output.name
    assert path.exists()

    Job.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("jobs:download", args=[job.id]))
    assert response.status_code == 410
    assert b"This export has expired" in response.content

    assert exports.exports_delete_expired() == 1
    assert not path.exists()
    job.refresh_from_db()
    assert not job.output and job.message == exports.EXPIRED_MESSAGE
    assert client.get(reverse("jobs:download", args=[job.id])).status_code == 410


def test_a_second_request_returns_the_export_under_way(client):
    user = UserFactory()
    pending = JobFactory(owner=user, kind=Job.Kind.EXPORT, status=Job.Status.RUNNING)
    client.force_login(user)
    response = client.post(reverse("jobs:export"))
    assert response.url == reverse("jobs:status", args=[pending.id])
    assert Job.objects.filter(owner=user, kind=Job.Kind.EXPORT).count() == 1


def test_unfinished_export_download_goes_back_to_its_status(client):
    user = UserFactory()
    job = JobFactory(owner=user, kind=Job.Kind.EXPORT, status=Job.Status.RUNNING)
    client.force_login(user)
    response = client.get(reverse("jobs:download", args=[job.id]))
    assert response.status_code == 302 and response.url == reverse("jobs:status", args=[job.id])


def test_export_with_htmx_returns_its_status_fragment(client, django_capture_on_commit_callbacks):
    user = UserFactory()
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("jobs:export"), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and "job-" in body
    job = Job.objects.get(owner=user, kind=Job.Kind.EXPORT)
    # The task ran on commit, after the fragment was rendered: the next poll shows it finished.
    assert job.status == Job.Status.SUCCEEDED
    response = client.get(reverse("jobs:status", args=[job.id]), HTTP_HX_REQUEST="true")
    assert response.status_code == 286
    assert reverse("jobs:download", args=[job.id]) in response.content.decode()


def test_housekeeping_fails_lost_jobs_and_deletes_expired_exports():
    from django.core.files.base import ContentFile

    from jobs import services
    from jobs.tasks import housekeeping

    lost = JobFactory(
        status=Job.Status.RUNNING,
        heartbeat_at=timezone.now() - services.STALE_AFTER - timedelta(minutes=1),
    )
    alive = JobFactory(status=Job.Status.RUNNING, heartbeat_at=timezone.now())
    expired = JobFactory(
        status=Job.Status.SUCCEEDED, expires_at=timezone.now() - timedelta(hours=1)
    )
    expired.output.save(f"{expired.owner_id}/old.zip", ContentFile(b"zip"))
    path = Path(settings.PRIVATE_MEDIA_ROOT) / expired.output.name
    assert path.exists()

    housekeeping.delay()

    for job in (lost, alive, expired):
        job.refresh_from_db()
    assert lost.status == Job.Status.FAILED and lost.message == services.LOST_MESSAGE
    assert alive.status == Job.Status.RUNNING
    assert not path.exists() and not expired.output
