"""The one way a Celery task runs a job: status, progress, cancellation and failure messages."""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded

from jobs import services
from jobs.models import Job
from worker.errors import Cancelled, EngineError

log = logging.getLogger(__name__)

GENERIC_FAILURE = "Something went wrong on our side. Nothing was saved; please try again."
TIMEOUT_FAILURE = "This job took too long and was stopped. Nothing was saved; try a shorter or smaller file."
MAX_ATTEMPTS = 2


class JobSkipped(Exception):
    """The job is finished, cancelled or gone: the task has nothing to do."""


@dataclass
class JobContext:
    """Handed to the task body: report progress, ask whether to stop, a private temp folder."""

    job: Job
    workdir: Path
    done_message: str = "Done."

    def progress(self, done: int, total: int, message: str | None = None) -> None:
        percent = int(100 * done / total) if total else 0
        services.job_progress(job_id=self.job.pk, progress=percent, message=message)

    def cancelled(self) -> bool:
        return services.job_is_cancelled(job_id=self.job.pk)

    def check_cancelled(self) -> None:
        if self.cancelled():
            raise Cancelled()


@contextmanager
def run_job(job_id: str) -> Iterator[JobContext]:
    """Mark the job running, yield a context, then mark it succeeded or failed.

    Engine errors become their own (user-readable) message; anything else a generic one, logged.
    The per-job temp folder is removed whatever happens. A job redelivered after its worker died
    runs again once; after that it fails with a clear message.
    """
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.is_finished:
        raise JobSkipped(job_id)
    if job.attempts >= MAX_ATTEMPTS:
        services.job_fail(job_id=job_id, message=services.LOST_MESSAGE)
        raise JobSkipped(job_id)
    if not services.job_start(job_id=job_id):
        raise JobSkipped(job_id)
    job.refresh_from_db()
    workdir = Path(tempfile.mkdtemp(prefix=f"safeface-job-{job.pk}-"))
    context = JobContext(job=job, workdir=workdir)
    try:
        yield context
    except Cancelled:
        services.job_mark_cancelled(job_id=job_id)
    except SoftTimeLimitExceeded:
        services.job_fail(job_id=job_id, message=TIMEOUT_FAILURE)
    except EngineError as error:
        services.job_fail(job_id=job_id, message=str(error))
    except Exception:
        log.exception("job %s failed", job_id)
        services.job_fail(job_id=job_id, message=GENERIC_FAILURE)
    else:
        services.job_succeed(job_id=job_id, message=context.done_message)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
