"""The swap task: runs one swap's engine work inside its job."""

from __future__ import annotations

from celery import shared_task

from jobs.models import Job
from jobs.runner import JobSkipped, run_job
from swaps import services
from swaps.models import Swap


@shared_task(name="swaps.swap_run")
def swap_run(job_id: str) -> None:
    """Render the swap of job ``job_id``; on any end but success, nothing of it stays stored."""
    swap = Swap.objects.select_related("target", "avatar", "job").filter(job_id=job_id).first()
    if swap is None:
        return
    try:
        with run_job(job_id) as ctx:
            ctx.done_message = "Your swap is ready."
            services.swap_render(swap=swap, workdir=ctx.workdir, report=ctx.progress,
                                 cancelled=ctx.cancelled)
    except JobSkipped:
        return
    if not Job.objects.filter(pk=job_id, status=Job.Status.SUCCEEDED).exists():
        services.swap_discard_output(swap=swap)
