"""Reads of the swap flow, always through the owner."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from avatars.models import Avatar
from swaps.models import Swap, Target


@dataclass(frozen=True)
class FaceChoice:
    """One face of a target as the target page shows it."""

    index: int
    number: int
    width: int
    usable: bool
    checked: bool


def targets_for(user) -> QuerySet[Target]:
    """The user's targets still kept, newest first."""
    return Target.objects.filter(owner=user, expires_at__gt=timezone.now())


def avatars_for(user) -> QuerySet[Avatar]:
    return Avatar.objects.filter(owner=user)


def swaps_of_target(target: Target) -> QuerySet[Swap]:
    return target.swaps.select_related("job", "avatar").filter(owner=target.owner_id)


def swaps_for(user) -> QuerySet[Swap]:
    return Swap.objects.filter(owner=user).select_related("job", "avatar")


def target_faces(target: Target, form) -> list[FaceChoice]:
    """The target's faces with whether each is ticked in the form (all usable ones at first)."""
    if form.is_bound:
        ticked = {str(value) for value in form.data.getlist("faces")}
    else:
        ticked = {str(value) for value in form.fields["faces"].initial}
    return [
        FaceChoice(index=i, number=i + 1, width=round(face["box"][2] - face["box"][0]),
                   usable=face.get("usable", True), checked=str(i) in ticked)
        for i, face in enumerate(target.faces)
    ]
