"""The target page: faces ticked, the avatar picker, options, and the swap request it makes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jobs.models import Job
from swaps.models import Swap, Target
from tests.avatars.factories import AvatarFactory
from tests.swaps.factories import TargetFactory

pytestmark = pytest.mark.django_db

TWO_FACES = [
    {"box": [10, 10, 110, 130], "score": 0.97, "thumb": "", "usable": True},
    {"box": [200, 20, 260, 90], "score": 0.93, "thumb": "", "usable": True},
    {"box": [300, 40, 320, 62], "score": 0.90, "thumb": "", "usable": False},
]


@pytest.fixture
def target(user):
    return TargetFactory(owner=user, faces=TWO_FACES)


@pytest.fixture
def plain_avatar(user):
    return AvatarFactory(owner=user, name="Plain")


def run(client, target, data, capture):
    """POST the target form; the task's send is captured, not run (tests/swaps/test_task.py
    runs it), so the callbacks list says whether a job was sent."""
    with capture(execute=False) as callbacks:
        response = client.post(reverse("swaps:target", args=[target.pk]), data)
    return response, callbacks


def test_target_page_ticks_every_usable_face(client_in, target, plain_avatar):
    response = client_in.get(reverse("swaps:target", args=[target.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('name="faces" value="0" checked') == 1
    assert html.count('name="faces" value="1" checked') == 1
    assert 'name="faces" value="2"  disabled' in html  # too small: shown, not pickable
    assert "too small" in html
    assert reverse("swaps:target_face", args=[target.pk, 1]) in html
    assert f'value="{plain_avatar.pk}"' in html
    assert reverse("avatars:file", args=[plain_avatar.pk, "face"]) in html
    assert 'name="keep_audio"' not in html  # a photo has no audio


def test_target_page_without_avatars_leads_to_the_builder(client_in, target):
    html = client_in.get(reverse("swaps:target", args=[target.pk])).content.decode()
    assert "You have no avatars yet" in html
    assert reverse("avatars:builder") in html


def test_video_target_offers_keep_audio_on_by_default(client_in, user, plain_avatar):
    video = TargetFactory(owner=user, kind="video", faces=TWO_FACES[:1])
    html = client_in.get(reverse("swaps:target", args=[video.pk])).content.decode()
    assert 'name="keep_audio" checked' in html


def test_all_faces_ticked_requests_all(client_in, target, plain_avatar,
                                       django_capture_on_commit_callbacks):
    response, sent = run(client_in, target, {"faces": ["0", "1"], "avatar": plain_avatar.pk,
                                             "feather": 30, "colour_match": 80},
                         django_capture_on_commit_callbacks)
    swap = Swap.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("swaps:detail", args=[swap.pk])
    # The third face is too small, so "all" means the usable two, by index.
    assert swap.options == {"faces": [0, 1], "feather": 0.3, "colour_match": 0.8,
                            "keep_audio": True, "enhance": False}
    assert swap.avatar == plain_avatar and swap.target == target
    assert swap.job.kind == Job.Kind.SWAP and swap.job.status == Job.Status.QUEUED
    assert len(sent) == 1 and swap.job.celery_task_id


def test_one_face_ticked(client_in, target, plain_avatar, django_capture_on_commit_callbacks):
    run(client_in, target, {"faces": ["1"], "avatar": plain_avatar.pk, "feather": 50,
                            "colour_match": 100}, django_capture_on_commit_callbacks)
    assert Swap.objects.get().options["faces"] == [1]


def test_only_the_largest(client_in, target, plain_avatar, django_capture_on_commit_callbacks):
    run(client_in, target, {"only_largest": "on", "avatar": plain_avatar.pk, "feather": 50,
                            "colour_match": 100}, django_capture_on_commit_callbacks)
    assert Swap.objects.get().options["faces"] == "largest"


def test_no_face_ticked_is_refused(client_in, target, plain_avatar,
                                   django_capture_on_commit_callbacks):
    response, sent = run(client_in, target, {"avatar": plain_avatar.pk, "feather": 50,
                                             "colour_match": 100},
                         django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert "Tick at least one face" in response.content.decode()
    assert not Swap.objects.exists() and not sent


def test_too_small_face_cannot_be_ticked(client_in, target, plain_avatar,
                                         django_capture_on_commit_callbacks):
    response, _ = run(client_in, target, {"faces": ["2"], "avatar": plain_avatar.pk,
                                          "feather": 50, "colour_match": 100},
                      django_capture_on_commit_callbacks)
    assert response.status_code == 400 and not Swap.objects.exists()


def test_another_users_avatar_is_refused(client_in, target, other_user,
                                         django_capture_on_commit_callbacks):
    theirs = AvatarFactory(owner=other_user)
    response, sent = run(client_in, target, {"faces": ["0"], "avatar": theirs.pk, "feather": 50,
                                             "colour_match": 100},
                         django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert "Choose one of your avatars" in response.content.decode()
    assert not Swap.objects.exists() and not sent


def test_no_upload_of_a_source_face_exists(client_in, target, plain_avatar):
    html = client_in.get(reverse("swaps:target", args=[target.pk])).content.decode()
    assert 'type="file"' not in html


def test_target_urls_are_owner_only(client, other_user, target):
    from tests.factories import PASSWORD

    client.login(username=other_user.username, password=PASSWORD)
    for name, args in [("swaps:target", [target.pk]), ("swaps:target_preview", [target.pk]),
                       ("swaps:target_face", [target.pk, 0])]:
        assert client.get(reverse(name, args=args)).status_code == 404, name
    assert client.post(reverse("swaps:target", args=[target.pk]), {}).status_code == 404
    assert client.post(reverse("swaps:target_delete", args=[target.pk])).status_code == 404
    assert Target.objects.filter(pk=target.pk).exists()


def test_target_delete_removes_its_files(client_in, target):
    storage, name = target.file.storage, target.file.name
    assert storage.exists(name)
    response = client_in.post(reverse("swaps:target_delete", args=[target.pk]))
    assert response.status_code == 302
    assert not Target.objects.filter(pk=target.pk).exists()
    assert not storage.exists(name)
