"""The gallery: the user's avatars and swaps as cards, newest first, paginated with htmx."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from avatars.models import Avatar
from safeface.views import GALLERY_PAGE_SIZE
from swaps.models import Swap
from tests.avatars.factories import AvatarFactory
from tests.factories import UserFactory
from tests.swaps.factories import SwapFactory

pytestmark = pytest.mark.django_db


def _make_items(user, count: int) -> list:
    """``count`` items alternating avatars and swaps, created one minute apart (oldest first)."""
    items = []
    start = timezone.now() - timedelta(hours=1)
    for index in range(count):
        item = AvatarFactory(owner=user) if index % 2 == 0 else SwapFactory(owner=user)
        type(item).objects.filter(pk=item.pk).update(created_at=start + timedelta(minutes=index))
        items.append(item)
    return items


def _card_ids(body: str) -> list[str]:
    return re.findall(r'data-id="([0-9a-f-]{36})"', body)


def test_gallery_needs_login(client):
    response = client.get(reverse("gallery"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_empty_gallery_leads_to_the_builder(client):
    client.force_login(UserFactory())
    body = client.get(reverse("gallery")).content.decode()
    assert "Nothing here yet" in body
    assert f'href="{reverse("avatars:builder")}"' in body


def test_full_page_shows_the_newest_items_first_with_a_load_more_link(client):
    user = UserFactory()
    items = _make_items(user, GALLERY_PAGE_SIZE + 3)
    client.force_login(user)
    response = client.get(reverse("gallery"))
    body = response.content.decode()
    assert "<html" in body
    newest_first = [str(item.pk) for item in reversed(items)]
    assert _card_ids(body) == newest_first[:GALLERY_PAGE_SIZE]
    assert "?page=2" in body and "Load more" in body


def test_htmx_gets_only_the_next_page_of_cards(client):
    user = UserFactory()
    items = _make_items(user, GALLERY_PAGE_SIZE + 3)
    client.force_login(user)
    response = client.get(reverse("gallery"), {"page": 2}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and "<header" not in body and "Your data" not in body
    assert _card_ids(body) == [str(item.pk) for item in reversed(items[:3])]
    assert "Load more" not in body


def test_cards_show_thumbnail_date_engine_and_status(client):
    user = UserFactory()
    avatar = AvatarFactory(owner=user, name="Juniper", engine="stylegan-offline")
    swap = SwapFactory(owner=user, avatar=avatar, engine="landmark")
    client.force_login(user)
    body = client.get(reverse("gallery")).content.decode()
    assert reverse("avatars:file", args=[avatar.pk, "face"]) in body
    assert reverse("swaps:file", args=[swap.pk, "thumbnail"]) in body
    assert reverse("avatars:detail", args=[avatar.pk]) in body
    assert reverse("swaps:detail", args=[swap.pk]) in body
    assert "Juniper" in body and "stylegan-offline" in body and "landmark" in body
    assert "Succeeded" in body and avatar.created_at.strftime("%-d %b %Y") in body


def test_another_users_items_never_show(client):
    user, other = UserFactory(), UserFactory()
    mine = AvatarFactory(owner=user)
    theirs = [AvatarFactory(owner=other), SwapFactory(owner=other)]
    client.force_login(user)
    for params in ({}, {"page": 2}):
        body = client.get(reverse("gallery"), params).content.decode()
        assert _card_ids(body) == [str(mine.pk)]
        assert not any(str(item.pk) in body for item in theirs)
    assert Avatar.objects.count() == 2 and Swap.objects.count() == 1


def test_pages_use_the_sites_own_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"We couldn" in response.content and b"app.css" in response.content
