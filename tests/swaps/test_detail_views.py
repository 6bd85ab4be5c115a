"""The swap page (polled status fragment), its files, download, cancel, delete and expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from jobs.models import Job
from jobs.services import LOST_MESSAGE
from swaps import services
from swaps.models import Swap, Target
from tests.factories import PASSWORD
from tests.swaps.factories import SwapFactory, TargetFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def swap(user):
    return SwapFactory(owner=user)


@pytest.fixture
def running(user):
    return SwapFactory(owner=user, output="", thumbnail="", job__status=Job.Status.RUNNING,
                       job__progress=40, job__message="Frame 12 of 30, about 4 s left.",
                       job__heartbeat_at=timezone.now())


def test_finished_swap_shows_preview_download_and_swap_again(client_in, swap):
    html = client_in.get(reverse("swaps:detail", args=[swap.pk])).content.decode()
    assert reverse("swaps:file", args=[swap.pk, "output"]) in html
    assert reverse("swaps:download", args=[swap.pk]) in html
    assert reverse("swaps:target", args=[swap.target.pk]) in html
    assert "hx-trigger" not in html  # nothing to poll


def test_video_swap_has_a_player(client_in, user):
    video = SwapFactory(owner=user, kind="video")
    html = client_in.get(reverse("swaps:detail", args=[video.pk])).content.decode()
    assert "<video controls" in html


def test_running_swap_page_polls_its_status(client_in, running):
    response = client_in.get(reverse("swaps:detail", args=[running.pk]))
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert 'id="swap-status"' in html and 'hx-trigger="every 1s"' in html
    assert "Frame 12 of 30, about 4 s left." in html
    assert reverse("swaps:cancel", args=[running.pk]) in html


def test_status_fragment_while_running(client_in, running):
    response = client_in.get(reverse("swaps:detail", args=[running.pk]),
                             HTTP_HX_REQUEST="true", HTTP_HX_TARGET="swap-status")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="swap-status"') and "<html" not in html
    assert "40%" in html


def test_status_fragment_stops_polling_when_finished(client_in, swap):
    response = client_in.get(reverse("swaps:detail", args=[swap.pk]),
                             HTTP_HX_REQUEST="true", HTTP_HX_TARGET="swap-status")
    assert response.status_code == 286
    assert reverse("swaps:download", args=[swap.pk]) in response.content.decode()


def test_dead_worker_ends_in_a_clear_message(client_in, running):
    Job.objects.filter(pk=running.job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    response = client_in.get(reverse("swaps:detail", args=[running.pk]),
                             HTTP_HX_REQUEST="true", HTTP_HX_TARGET="swap-status")
    assert response.status_code == 286
    assert LOST_MESSAGE in response.content.decode()
    assert "Try again" in response.content.decode()


def test_cancel(client_in, running):
    response = client_in.post(reverse("swaps:cancel", args=[running.pk]))
    assert response.status_code == 302
    running.job.refresh_from_db()
    assert running.job.status == Job.Status.CANCELLED


def test_download_is_an_attachment_named_for_the_swap(client_in, swap):
    response = client_in.get(reverse("swaps:download", args=[swap.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="safeface-{swap.pk}.jpg"'
    body = b"".join(response.streaming_content)
    assert body == swap.output.storage.open(swap.output.name).read()


def test_preview_answers_range_requests(client_in, swap):
    size = swap.output.size
    url = reverse("swaps:file", args=[swap.pk, "output"])
    whole = client_in.get(url)
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes"
    part = client_in.get(url, HTTP_RANGE="bytes=10-99")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 10-99/{size}"
    data = swap.output.storage.open(swap.output.name).read()
    assert b"".join(part.streaming_content) == data[10:100]
    tail = client_in.get(url, HTTP_RANGE="bytes=-20")
    assert b"".join(tail.streaming_content) == data[-20:]
    assert client_in.get(url, HTTP_RANGE=f"bytes={size + 5}-").status_code == 416


def test_unfinished_swap_has_no_files(client_in, running):
    for kind in ("output", "thumbnail"):
        assert client_in.get(reverse("swaps:file", args=[running.pk, kind])).status_code == 404
    assert client_in.get(reverse("swaps:download", args=[running.pk])).status_code == 404


def test_every_swap_url_is_owner_only(client, other_user, swap, running):
    client.login(username=other_user.username, password=PASSWORD)
    for item in (swap, running):
        for name, args in [("swaps:detail", [item.pk]), ("swaps:download", [item.pk]),
                           ("swaps:file", [item.pk, "output"]),
                           ("swaps:file", [item.pk, "thumbnail"])]:
            assert client.get(reverse(name, args=args)).status_code == 404, name
            assert client.get(reverse(name, args=args),
                              HTTP_HX_REQUEST="true").status_code == 404, name
        assert client.post(reverse("swaps:cancel", args=[item.pk])).status_code == 404
        assert client.post(reverse("swaps:delete", args=[item.pk])).status_code == 404
    running.job.refresh_from_db()
    assert running.job.status == Job.Status.RUNNING
    assert Swap.objects.count() == 2


def test_delete_removes_the_swap_and_its_files(client_in, swap):
    storage = swap.output.storage
    names = [swap.output.name, swap.thumbnail.name]
    response = client_in.post(reverse("swaps:delete", args=[swap.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("gallery")
    assert not Swap.objects.filter(pk=swap.pk).exists()
    assert not Job.objects.filter(pk=swap.job.pk).exists()
    assert not any(storage.exists(name) for name in names)
    assert Target.objects.filter(pk=swap.target.pk).exists()


def test_expired_targets_are_deleted_with_their_files(user):
    old = TargetFactory(owner=user, expires_at=timezone.now() - timedelta(minutes=1))
    busy = TargetFactory(owner=user, expires_at=timezone.now() - timedelta(minutes=1))
    SwapFactory(owner=user, target=busy, job__status=Job.Status.RUNNING)
    fresh = TargetFactory(owner=user)
    old_file = old.file.name
    assert services.targets_delete_expired() == 1
    assert not Target.objects.filter(pk=old.pk).exists()
    assert not old.file.storage.exists(old_file)
    assert Target.objects.filter(pk__in=[busy.pk, fresh.pk]).count() == 2


def test_swap_of_an_expired_target_keeps_its_output(client_in, swap):
    services.target_delete(target=swap.target)
    swap.refresh_from_db()
    assert swap.target is None
    html = client_in.get(reverse("swaps:detail", args=[swap.pk])).content.decode()
    assert reverse("swaps:download", args=[swap.pk]) in html
    assert "Swap again" not in html
