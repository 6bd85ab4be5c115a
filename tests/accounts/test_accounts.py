"""Sign up, log in (rate-limited), log out, change password, delete my account with its files."""

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.urls import reverse

from accounts import ratelimit
from jobs.models import Job
from tests.avatars.factories import AvatarFactory
from tests.factories import PASSWORD, JobFactory, UserFactory
from tests.swaps.factories import SwapFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


def test_signup_creates_the_user_logs_in_and_opens_the_empty_gallery(client):
    response = client.post(
        reverse("signup"),
        {"username": "ada", "email": "", "password1": PASSWORD, "password2": PASSWORD},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("gallery")
    assert User.objects.filter(username="ada").exists()
    assert response.context["user"].username == "ada"
    assert b"Nothing here yet" in response.content
    assert reverse("avatars:builder").encode() in response.content


def test_signup_rejects_a_weak_password(client):
    response = client.post(
        reverse("signup"), {"username": "bob", "password1": "123", "password2": "123"}
    )
    assert response.status_code == 200
    assert not User.objects.filter(username="bob").exists()
    assert response.context["form"].errors["password2"]


def test_forms_need_a_csrf_token():
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("signup"), {"username": "eve", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 403
    assert b"This form has expired" in response.content
    assert not User.objects.filter(username="eve").exists()


def test_login_and_logout(client):
    user = UserFactory()
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302 and response.url == reverse("gallery")
    assert client.get(reverse("gallery")).status_code == 200

    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response.url == reverse("home")
    response = client.get(reverse("gallery"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_wrong_password_is_refused(client):
    user = UserFactory()
    response = client.post(reverse("login"), {"username": user.username, "password": "nope"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_login_is_rate_limited_even_with_the_right_password(client):
    user = UserFactory()
    for _ in range(ratelimit.MAX_FAILURES_PER_USERNAME):
        client.post(reverse("login"), {"username": user.username, "password": "wrong"})
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 429
    assert b"Too many failed attempts" in response.content
    assert "_auth_user_id" not in client.session

    # Another username from the same address is still allowed.
    other = UserFactory()
    response = client.post(reverse("login"), {"username": other.username, "password": PASSWORD})
    assert response.status_code == 302


def test_change_password(client):
    user = UserFactory()
    client.force_login(user)
    new = "another long passphrase 42"
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302 and response.url == reverse("account")
    user.refresh_from_db()
    assert user.check_password(new)


def _media(name: str) -> Path:
    return Path(settings.PRIVATE_MEDIA_ROOT) / name


def test_delete_account_needs_the_password(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(reverse("account_delete"), {"password": "not it"})
    assert response.status_code == 200
    assert User.objects.filter(pk=user.pk).exists()


def test_delete_account_removes_every_row_and_file(client, django_capture_on_commit_callbacks):
    user = UserFactory()
    avatar = AvatarFactory(owner=user)
    swap = SwapFactory(owner=user, avatar=avatar)
    export = JobFactory(owner=user, status=Job.Status.SUCCEEDED)
    export.output.save(f"{user.pk}/data.zip", ContentFile(b"zip"))
    files = [
        avatar.image.name, avatar.face_crop.name, swap.output.name, swap.thumbnail.name,
        export.output.name,
    ]
    assert all(_media(name).exists() for name in files)
    stray = _media(f"users/{user.pk}/leftover/partial.png")
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"half-written")
    other = UserFactory()
    others_avatar = AvatarFactory(owner=other)

    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_delete"), {"password": PASSWORD})
    assert response.status_code == 302 and response.url == reverse("home")

    assert not User.objects.filter(pk=user.pk).exists()
    assert not Job.objects.filter(owner_id=user.pk).exists()
    assert not any(_media(name).exists() for name in files)
    assert not _media(f"users/{user.pk}").exists()
    assert not _media(f"exports/{user.pk}").exists()
    assert "_auth_user_id" not in client.session
    # Nobody else's things are touched.
    assert _media(others_avatar.image.name).exists()
