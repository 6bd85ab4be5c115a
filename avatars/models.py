"""Saved avatars: generated faces that belong to no real person."""

import uuid

from django.conf import settings
from django.db import models


def avatar_path(instance: "Avatar", filename: str) -> str:
    return f"users/{instance.owner_id}/avatars/{instance.pk}/{filename}"


class Avatar(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="avatars")
    name = models.CharField(max_length=80)
    image = models.FileField(upload_to=avatar_path)  # the portrait, PNG
    face_crop = models.FileField(upload_to=avatar_path)  # the aligned face, PNG; also the thumbnail
    attributes = models.JSONField(default=dict)  # what was asked: {field: value or "any"}
    honoured = models.JSONField(default=dict)  # {field: {"asked", "measured", "honoured"}}
    prompt = models.TextField(blank=True)
    seed = models.BigIntegerField()
    engine = models.CharField(max_length=40)
    engine_version = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return self.name
