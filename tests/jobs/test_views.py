"""The job-status fragment (page and htmx, stop-polling), cancel, stale workers, owner checks."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from jobs import services
from jobs.models import Job
from tests.factories import JobFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(client):
    user = UserFactory()
    client.force_login(user)
    client.user = user
    return client


def test_status_full_page(owner_client):
    job = JobFactory(
        owner=owner_client.user, status=Job.Status.RUNNING, progress=40,
        message="Adding file 2 of 5…",
    )
    response = owner_client.get(reverse("jobs:status", args=[job.id]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" in body and "<header" in body
    assert 'aria-valuenow="40"' in body and "Adding file 2 of 5" in body


def test_status_fragment_keeps_polling_while_running(owner_client):
    job = JobFactory(owner=owner_client.user, status=Job.Status.RUNNING, progress=40)
    response = owner_client.get(reverse("jobs:status", args=[job.id]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and "<header" not in body
    assert f'id="job-{job.id}"' in body
    assert 'hx-trigger="every 1s"' in body
    assert 'aria-valuenow="40"' in body


@pytest.mark.parametrize("status", [Job.Status.SUCCEEDED, Job.Status.FAILED, Job.Status.CANCELLED])
def test_status_fragment_stops_polling_when_finished(owner_client, status):
    job = JobFactory(owner=owner_client.user, status=status, progress=100, message="All done.")
    response = owner_client.get(reverse("jobs:status", args=[job.id]), HTTP_HX_REQUEST="true")
    assert response.status_code == 286  # htmx: stop polling, but still swap in the final state
    body = response.content.decode()
    assert "hx-trigger" not in body and "All done." in body and "<html" not in body


def test_polling_fails_a_job_whose_worker_died(owner_client):
    job = JobFactory(
        owner=owner_client.user, status=Job.Status.RUNNING, progress=30,
        heartbeat_at=timezone.now() - services.STALE_AFTER - timedelta(minutes=1),
    )
    response = owner_client.get(reverse("jobs:status", args=[job.id]), HTTP_HX_REQUEST="true")
    assert response.status_code == 286
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.message == services.LOST_MESSAGE
    assert services.LOST_MESSAGE in response.content.decode()


def test_cancel_a_queued_job(owner_client):
    job = JobFactory(owner=owner_client.user)
    response = owner_client.post(reverse("jobs:cancel", args=[job.id]))
    assert response.status_code == 302 and response.url == reverse("jobs:status", args=[job.id])
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED and job.finished_at is not None


def test_cancel_with_htmx_returns_the_final_fragment(owner_client):
    job = JobFactory(owner=owner_client.user, status=Job.Status.RUNNING)
    response = owner_client.post(reverse("jobs:cancel", args=[job.id]), HTTP_HX_REQUEST="true")
    assert response.status_code == 286
    assert "Cancelled" in response.content.decode() and "<html" not in response.content.decode()
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED


def test_cancel_leaves_a_finished_job_alone(owner_client):
    job = JobFactory(owner=owner_client.user, status=Job.Status.SUCCEEDED, progress=100)
    owner_client.post(reverse("jobs:cancel", args=[job.id]))
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED


def test_cancel_needs_post(owner_client):
    job = JobFactory(owner=owner_client.user)
    assert owner_client.get(reverse("jobs:cancel", args=[job.id])).status_code == 405


@pytest.mark.parametrize(
    ("name", "method"),
    [("jobs:status", "get"), ("jobs:cancel", "post"), ("jobs:download", "get")],
)
def test_another_user_gets_404(owner_client, name, method):
    job = JobFactory(status=Job.Status.SUCCEEDED)  # someone else's
    response = getattr(owner_client, method)(reverse(name, args=[job.id]))
    assert response.status_code == 404
    assert b"We couldn" in response.content  # the site's own 404 page
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED


def test_anonymous_users_are_sent_to_log_in(client):
    job = JobFactory()
    response = client.get(reverse("jobs:status", args=[job.id]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_htmx_poll_after_logout_redirects_the_whole_page_to_log_in(client):
    job = JobFactory()
    response = client.get(reverse("jobs:status", args=[job.id]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("login"))
