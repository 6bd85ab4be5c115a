"""Celery tasks of the avatar builder: they take ids and run inside jobs.runner.run_job."""

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from jobs.runner import JobSkipped, run_job
from worker.errors import GenerationFailed

TIMEOUT_MESSAGE = (
    "Making these faces took too long and was stopped. Nothing was lost; please try again, "
    "perhaps with fewer faces."
)


@shared_task(name="avatars.generate_candidates", soft_time_limit=10 * 60, time_limit=11 * 60)
def generate_candidates(job_id: str) -> None:
    """Make a generation's candidates, one by one, each stored as soon as it is made."""
    from avatars.models import Generation
    from avatars.services import generation_run

    try:
        with run_job(job_id) as context:
            generation = Generation.objects.get(job_id=job_id)
            try:
                generation_run(generation=generation, context=context)
            except SoftTimeLimitExceeded:
                raise GenerationFailed(TIMEOUT_MESSAGE) from None
    except JobSkipped:
        return


@shared_task(name="avatars.cleanup_candidates")
def cleanup_candidates() -> int:
    """Remove candidates older than a day (for a periodic schedule)."""
    from avatars.services import candidates_cleanup

    return candidates_cleanup()
