"""Reads for the gallery: a user's avatars and swaps, newest first, as uniform cards."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db.models import CharField, QuerySet, Value
from django.urls import NoReverseMatch, reverse

from avatars.models import Avatar
from swaps.models import Swap


@dataclass(frozen=True)
class GalleryCard:
    kind: str  # "avatar" | "swap"
    id: uuid.UUID
    title: str
    created_at: datetime
    engine: str
    status: str  # a Job.Status value; saved avatars are "succeeded"
    status_label: str
    thumbnail_url: str | None
    detail_url: str | None
    is_video: bool = False


def url_or_none(name: str, *args) -> str | None:
    """Reverse a URL owned by another app, or None while that app has not defined it yet."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def gallery_entries(*, user) -> QuerySet:
    """(kind, id, created_at) of every avatar and swap of ``user``, newest first, paginable."""
    # Each side drops its model's default ordering: compound queries allow only an outer one.
    avatars = Avatar.objects.filter(owner=user).order_by().values_list("id", "created_at").annotate(
        kind=Value("avatar", output_field=CharField())
    )
    swaps = Swap.objects.filter(owner=user).order_by().values_list("id", "created_at").annotate(
        kind=Value("swap", output_field=CharField())
    )
    return avatars.union(swaps, all=True).order_by("-created_at", "-id")


def gallery_cards(*, user, entries) -> list[GalleryCard]:
    """Turn one page of entries into cards, loading each row through its owner."""
    entries = list(entries)
    avatar_ids = [pk for pk, _, kind in entries if kind == "avatar"]
    swap_ids = [pk for pk, _, kind in entries if kind == "swap"]
    avatars = {a.pk: a for a in Avatar.objects.filter(owner=user, pk__in=avatar_ids)}
    swaps = {
        s.pk: s
        for s in Swap.objects.filter(owner=user, pk__in=swap_ids).select_related("job", "avatar")
    }
    cards = []
    for pk, _, kind in entries:
        if kind == "avatar" and pk in avatars:
            cards.append(_avatar_card(avatars[pk]))
        elif kind == "swap" and pk in swaps:
            cards.append(_swap_card(swaps[pk]))
    return cards


def _avatar_card(avatar: Avatar) -> GalleryCard:
    return GalleryCard(
        kind="avatar",
        id=avatar.pk,
        title=avatar.name or "Avatar",
        created_at=avatar.created_at,
        engine=avatar.engine,
        status="succeeded",
        status_label="Saved",
        thumbnail_url=url_or_none("avatars:file", avatar.pk, "face") if avatar.face_crop else None,
        detail_url=url_or_none("avatars:detail", avatar.pk),
    )


def _swap_card(swap: Swap) -> GalleryCard:
    media = "Video" if swap.kind == "video" else "Photo"
    title = f"{media} swap" + (f" with {swap.avatar.name}" if swap.avatar else "")
    thumbnail = None
    if swap.thumbnail:
        thumbnail = url_or_none("swaps:file", swap.pk, "thumbnail")
    return GalleryCard(
        kind="swap",
        id=swap.pk,
        title=title,
        created_at=swap.created_at,
        engine=swap.engine,
        status=swap.job.status,
        status_label=swap.job.get_status_display(),
        thumbnail_url=thumbnail,
        detail_url=url_or_none("swaps:detail", swap.pk),
        is_video=swap.kind == "video",
    )
