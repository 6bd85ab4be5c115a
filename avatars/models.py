"""Saved avatars (generated faces that belong to no real person), and the generations and
short-lived candidates they are picked from."""

import uuid

from django.conf import settings
from django.db import models

from worker.attributes import FIELDS_BY_NAME


def avatar_path(instance: "Avatar", filename: str) -> str:
    return f"users/{instance.owner_id}/avatars/{instance.pk}/{filename}"


def candidate_path(instance: "Candidate", filename: str) -> str:
    generation = instance.generation
    return f"users/{generation.owner_id}/candidates/{generation.pk}/{instance.index}-{filename}"


def attribute_rows(asked: dict, honoured: dict) -> list[dict]:
    """Asked vs honoured, one row per schema field, in schema order, with readable labels.

    ``status`` is "any" (no preference), "honoured", "missed" (measured, not as asked) or
    "unmeasured" (the engine could not steer or check it)."""
    rows = []
    for name, field in FIELDS_BY_NAME.items():
        value = asked.get(name, "any")
        result = honoured.get(name) or {}
        measured = result.get("measured")
        if value == "any":
            status = "any"
        elif result.get("honoured"):
            status = "honoured"
        elif measured is None:
            status = "unmeasured"
        else:
            status = "missed"
        rows.append({
            "name": name,
            "label": field.label,
            "asked": field.label_of(value) if value in (*field.values, "any") else value,
            "measured": field.label_of(measured) if measured in field.values else measured,
            "status": status,
        })
    return rows


def status_counts(rows: list[dict]) -> dict[str, int]:
    counts = {"honoured": 0, "missed": 0, "unmeasured": 0, "asked": 0}
    for row in rows:
        if row["status"] != "any":
            counts[row["status"]] += 1
            counts["asked"] += 1
    return counts


class Avatar(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="avatars")
    name = models.CharField(max_length=80)
    image = models.FileField(upload_to=avatar_path, max_length=255)  # the portrait, PNG
    face_crop = models.FileField(upload_to=avatar_path, max_length=255)  # the aligned face, PNG; also the thumbnail
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

    def attribute_rows(self) -> list[dict]:
        return attribute_rows(self.attributes, self.honoured)

    def status_counts(self) -> dict[str, int]:
        return status_counts(self.attribute_rows())


class Generation(models.Model):
    """One press of Generate: a batch of candidates made by a job from the asked attributes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="generations"
    )
    job = models.OneToOneField("jobs.Job", on_delete=models.CASCADE, related_name="generation")
    attributes = models.JSONField(default=dict)  # validated: {field: value or "any"}
    count = models.PositiveSmallIntegerField()
    base_seed = models.BigIntegerField()
    engine = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Generation of {self.count} ({self.engine})"


class Candidate(models.Model):
    """A generated face waiting to be picked; cleaned up a day after its generation."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="candidates")
    index = models.PositiveSmallIntegerField()
    image = models.FileField(upload_to=candidate_path, max_length=255)
    face_crop = models.FileField(upload_to=candidate_path, max_length=255)
    seed = models.BigIntegerField()
    prompt = models.TextField(blank=True)
    honoured = models.JSONField(default=dict)  # {field: {"asked", "measured", "honoured"}}
    engine = models.CharField(max_length=40)
    engine_version = models.CharField(max_length=40, blank=True)
    # Set once the user saves this candidate, so the same face is not saved twice.
    saved_as = models.OneToOneField(
        Avatar, on_delete=models.SET_NULL, null=True, blank=True, related_name="candidate"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["index"]
        constraints = [
            models.UniqueConstraint(fields=["generation", "index"], name="candidate_unique_index"),
        ]

    def __str__(self) -> str:
        return f"Candidate {self.index + 1} of generation {self.generation_id}"

    def attribute_rows(self) -> list[dict]:
        return attribute_rows(self.generation.attributes, self.honoured)

    def status_counts(self) -> dict[str, int]:
        return status_counts(self.attribute_rows())
