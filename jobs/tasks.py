"""Celery tasks of the jobs app: the data export and periodic housekeeping."""

from celery import shared_task

from jobs import exports, services
from jobs.runner import JobSkipped, run_job


@shared_task(name="jobs.export_data", soft_time_limit=20 * 60, time_limit=25 * 60)
def export_data(job_id: str) -> None:
    try:
        with run_job(job_id) as ctx:
            exports.export_build(ctx=ctx)
    except JobSkipped:
        return


@shared_task(name="jobs.housekeeping")
def housekeeping() -> None:
    """Fail jobs whose worker died and delete expired exports (run hourly by the worker's beat)."""
    services.jobs_fail_stale()
    exports.exports_delete_expired()
