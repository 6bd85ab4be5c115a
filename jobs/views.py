"""Job views: a job's status (a page, or a fragment htmx polls), cancel, and the data export."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from jobs import exports, services
from jobs.models import Job
from safeface.files import serve_private


def _status_fragment(request: HttpRequest, job: Job) -> HttpResponse:
    """The job-status fragment; a finished job's tells htmx to stop polling."""
    context = {"job": job}
    if job.is_finished:
        html = render_to_string("jobs/job.html#job-status", context, request)
        return HttpResponseStopPolling(html)
    return render(request, "jobs/job.html#job-status", context)


@login_required
@require_GET
def status(request: HttpRequest, pk) -> HttpResponse:
    # Polling is when someone is waiting: a good moment to notice workers that died.
    services.jobs_fail_stale()
    job = get_object_or_404(Job, pk=pk, owner=request.user)
    if request.htmx:
        return _status_fragment(request, job)
    return render(request, "jobs/job.html", {"job": job})


@login_required
@require_POST
def cancel(request: HttpRequest, pk) -> HttpResponse:
    job = get_object_or_404(Job, pk=pk, owner=request.user)
    if not job.is_finished:
        job = services.job_cancel(job=job)
    if request.htmx:
        return _status_fragment(request, job)
    if job.status == Job.Status.CANCELLED:
        messages.info(request, "The job was cancelled.")
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(next_url)
    return redirect("jobs:status", pk=job.pk)


@login_required
@require_POST
def export_create(request: HttpRequest) -> HttpResponse:
    job = exports.export_request(user=request.user)
    if request.htmx:
        return _status_fragment(request, job)
    messages.success(request, "Your export has started. It will be ready to download in a moment.")
    return redirect("jobs:status", pk=job.pk)


@login_required
@require_GET
def download(request: HttpRequest, pk) -> HttpResponse:
    job = get_object_or_404(Job, pk=pk, owner=request.user, kind=Job.Kind.EXPORT)
    if job.is_expired or (job.status == Job.Status.SUCCEEDED and not job.output):
        return render(request, "jobs/expired.html", {"job": job}, status=410)
    if job.status != Job.Status.SUCCEEDED:
        return redirect("jobs:status", pk=job.pk)
    return serve_private(job.output, download_name=exports.export_download_name(job))
