"""Writes to jobs: create and enqueue, mark progress, finish, cancel."""

from __future__ import annotations

import uuid
from datetime import timedelta

from celery import Task
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from jobs.models import Job

# A running job whose worker has not reported for this long is taken as lost (worker died).
STALE_AFTER = timedelta(minutes=10)
LOST_MESSAGE = "The worker stopped while processing this job. Nothing was saved; please try again."


def job_create(*, owner, kind: str, message: str = "Waiting for a worker…") -> Job:
    return Job.objects.create(owner=owner, kind=kind, message=message)


def job_enqueue(*, job: Job, task: Task, **kwargs) -> Job:
    """Send ``task(job.id, **kwargs)`` once the current transaction commits."""
    job.celery_task_id = str(uuid.uuid4())
    job.save(update_fields=["celery_task_id"])
    task_id = job.celery_task_id
    transaction.on_commit(
        lambda: task.apply_async(args=[str(job.id)], kwargs=kwargs, task_id=task_id)
    )
    return job


def job_start(*, job_id: uuid.UUID | str) -> bool:
    """Mark a queued (or redelivered running) job as running; False if it should not run."""
    now = timezone.now()
    updated = Job.objects.filter(
        pk=job_id, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
    ).update(
        status=Job.Status.RUNNING, started_at=now, heartbeat_at=now,
        attempts=F("attempts") + 1, message="Working…",
    )
    return bool(updated)


def job_progress(*, job_id: uuid.UUID | str, progress: int, message: str | None = None) -> None:
    """Report progress; never overwrites a cancelled or finished job."""
    fields: dict = {"progress": max(0, min(100, int(progress))), "heartbeat_at": timezone.now()}
    if message is not None:
        fields["message"] = message[:300]
    Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(**fields)


def job_succeed(*, job_id: uuid.UUID | str, message: str = "Done.") -> None:
    Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(
        status=Job.Status.SUCCEEDED, progress=100, message=message[:300], finished_at=timezone.now()
    )


def job_fail(*, job_id: uuid.UUID | str, message: str) -> None:
    Job.objects.filter(pk=job_id).exclude(status__in=Job.FINISHED).update(
        status=Job.Status.FAILED, message=message[:300], finished_at=timezone.now()
    )


def job_mark_cancelled(*, job_id: uuid.UUID | str) -> None:
    Job.objects.filter(pk=job_id).exclude(status__in=Job.FINISHED).update(
        status=Job.Status.CANCELLED, message="Cancelled.", finished_at=timezone.now()
    )


def job_cancel(*, job: Job) -> Job:
    """Cancel a job that has not finished; the worker notices at its next checkpoint."""
    job_mark_cancelled(job_id=job.pk)
    if job.celery_task_id and job.status == Job.Status.QUEUED:
        from safeface.celery import app

        app.control.revoke(job.celery_task_id)
    job.refresh_from_db()
    return job


def job_is_cancelled(*, job_id: uuid.UUID | str) -> bool:
    return Job.objects.filter(pk=job_id, status=Job.Status.CANCELLED).exists()


def jobs_fail_stale(*, now=None) -> int:
    """Fail running jobs whose worker went silent (it died or was killed)."""
    now = now or timezone.now()
    return Job.objects.filter(
        status=Job.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER
    ).update(status=Job.Status.FAILED, message=LOST_MESSAGE, finished_at=now)
