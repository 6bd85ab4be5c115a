"""Targets (the user's own photos and videos) and the swaps made onto them."""

import uuid

from django.conf import settings
from django.db import models


def user_path(instance, filename: str) -> str:
    return f"users/{instance.owner_id}/{instance._meta.model_name}s/{instance.pk}/{filename}"


class MediaKind(models.TextChoices):
    IMAGE = "image", "Image"
    VIDEO = "video", "Video"


class Target(models.Model):
    """An uploaded photo or video to swap onto; deleted when no longer needed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="targets")
    kind = models.CharField(max_length=8, choices=MediaKind.choices)
    file = models.FileField(upload_to=user_path, max_length=255)
    content_type = models.CharField(max_length=40)
    original_name = models.CharField(max_length=200, blank=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    duration = models.FloatField(default=0)
    # [{"box": [x0,y0,x1,y1], "score": s, "thumb": storage name, "usable": bool}], largest first;
    # for a video, the faces of the first analysed frame that has any (the swap's indices).
    faces = models.JSONField(default=list)
    thumbnail = models.FileField(upload_to=user_path, blank=True, max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.original_name or f"{self.get_kind_display()} {self.pk}"

    @property
    def extension(self) -> str:
        return self.file.name.rsplit(".", 1)[-1] if "." in self.file.name else ""


class Swap(models.Model):
    """One swap of an avatar onto a target; its job carries status and progress."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="swaps")
    job = models.OneToOneField("jobs.Job", on_delete=models.CASCADE, related_name="swap")
    target = models.ForeignKey(Target, on_delete=models.SET_NULL, null=True, blank=True, related_name="swaps")
    avatar = models.ForeignKey("avatars.Avatar", on_delete=models.SET_NULL, null=True, blank=True, related_name="swaps")
    kind = models.CharField(max_length=8, choices=MediaKind.choices)
    options = models.JSONField(default=dict)
    output = models.FileField(upload_to=user_path, blank=True, max_length=255)
    thumbnail = models.FileField(upload_to=user_path, blank=True, max_length=255)
    engine = models.CharField(max_length=40, blank=True)
    engine_version = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return f"Swap {self.pk}"

    @property
    def download_name(self) -> str:
        extension = self.output.name.rsplit(".", 1)[-1] if "." in self.output.name else "bin"
        return f"safeface-{self.pk}.{extension}"
