"""Export my data: a zip of every file and record of a user, built by a worker, kept for a day."""

from __future__ import annotations

import json
import shutil
import uuid
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import models
from django.utils import timezone

from accounts.services import user_owned_rows
from jobs import services
from jobs.models import Job
from jobs.runner import JobContext

EXPORT_TTL = timedelta(hours=getattr(settings, "SAFEFACE_EXPORT_TTL_HOURS", 24))
EXPIRED_MESSAGE = "This export has expired (exports are kept for a day). Please request a new one."
RECORDS_NAME = "records.json"
README_NAME = "README.txt"
README_TEXT = """This is every record and file SafeFace holds for your account.

records.json lists your account, avatars (with the attributes you asked for), swaps, jobs and
anything else stored for you. Each file path in it points at a file in this archive.
Every image and video in here was made by AI and is marked as such.
"""


def export_request(*, user) -> Job:
    """Queue an export, or return the one already under way."""
    from jobs.tasks import export_data

    exports_delete_expired()
    pending = Job.objects.filter(owner=user, kind=Job.Kind.EXPORT).exclude(status__in=Job.FINISHED)
    existing = pending.first()
    if existing is not None:
        return existing
    job = services.job_create(owner=user, kind=Job.Kind.EXPORT)
    return services.job_enqueue(job=job, task=export_data)


def exports_recent(*, user, limit: int = 5) -> list[Job]:
    return list(Job.objects.filter(owner=user, kind=Job.Kind.EXPORT)[:limit])


def export_download_name(job: Job) -> str:
    day = (job.finished_at or job.created_at or timezone.now()).date()
    return f"safeface-export-{day.isoformat()}.zip"


def exports_delete_expired(*, now: datetime | None = None) -> int:
    """Delete the zip of every expired export; the job row stays to say it expired."""
    now = now or timezone.now()
    expired = Job.objects.filter(kind=Job.Kind.EXPORT, expires_at__lte=now).exclude(output="")
    count = 0
    for job in expired:
        default_storage.delete(job.output.name)
        Job.objects.filter(pk=job.pk).update(output="", message=EXPIRED_MESSAGE)
        count += 1
    return count


def _json_value(value):
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (dict, list, str, int, float, bool)) or value is None:
        return value
    return str(value)


def _section_name(model: type[models.Model]) -> str:
    return str(model._meta.verbose_name_plural).replace(" ", "_").lower()


def export_build(*, ctx: JobContext) -> None:
    """Write the zip (files first, then records.json), store it, and set the job's expiry."""
    job = ctx.job
    user = job.owner
    records: dict = {
        "exported_at": timezone.now().isoformat(),
        "account": {
            "id": user.pk,
            "username": user.get_username(),
            "email": user.email,
            "date_joined": user.date_joined.isoformat(),
            "last_login": user.last_login.isoformat() if user.last_login else None,
        },
    }
    files: list[tuple[str, str]] = []  # (name in storage, path in zip)
    for model, rows in user_owned_rows(user=user):
        section = records.setdefault(_section_name(model), [])
        for row in rows.order_by("pk"):
            record = {}
            for field in model._meta.concrete_fields:
                if isinstance(field, models.ForeignKey) and field.related_model is type(user):
                    continue
                value = getattr(row, field.attname)
                if isinstance(field, models.FileField):
                    # Earlier exports are not exported again: they hold nothing new.
                    if not value or model is Job:
                        record[field.name] = None
                        continue
                    suffix = Path(value.name).suffix
                    in_zip = f"{_section_name(model)}/{row.pk}/{field.name}{suffix}"
                    files.append((value.name, in_zip))
                    record[field.name] = in_zip
                else:
                    record[field.name] = _json_value(value)
            section.append(record)

    archive = ctx.workdir / "export.zip"
    total = len(files) + 1
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(README_NAME, README_TEXT)
        for index, (name, in_zip) in enumerate(files):
            ctx.check_cancelled()
            ctx.progress(index, total, f"Adding file {index + 1} of {len(files)}…")
            if not default_storage.exists(name):
                records.setdefault("missing_files", []).append(in_zip)
                continue
            # Images and videos are compressed already: store them as they are.
            with default_storage.open(name, "rb") as source, bundle.open(
                zipfile.ZipInfo(in_zip, date_time=timezone.now().timetuple()[:6]), "w"
            ) as target:
                shutil.copyfileobj(source, target, 1024 * 1024)
        bundle.writestr(RECORDS_NAME, json.dumps(records, indent=2, ensure_ascii=False))
    ctx.check_cancelled()
    ctx.progress(total - 1, total, "Saving your export…")
    with archive.open("rb") as handle:
        stored = default_storage.save(f"exports/{user.pk}/{job.pk}.zip", File(handle))
    now = timezone.now()
    Job.objects.filter(pk=job.pk).update(output=stored, expires_at=now + EXPORT_TTL)
    ctx.done_message = f"Your export is ready: {len(files)} files. It can be downloaded for a day."
