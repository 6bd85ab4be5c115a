"""Pages of the swap flow: upload, the target (faces, avatar, options), the swap and its files."""

from __future__ import annotations

import mimetypes
import re

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect, HttpResponseStopPolling

from jobs.models import Job
from jobs.services import job_cancel, jobs_fail_stale
from safeface.files import serve_private
from swaps import selectors, services
from swaps.forms import ACCEPT_ATTRIBUTE, SwapForm, UploadForm
from swaps.models import Swap, Target
from swaps.uploads import SizeLimitHandler, max_upload_bytes, too_large_message

RANGE_CHUNK = 512 * 1024


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    """After a POST: a full redirect, or htmx's client redirect for a request made by htmx."""
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


# Upload ---------------------------------------------------------------------------------------

@csrf_exempt
@login_required
def new(request: HttpRequest) -> HttpResponse:
    """The upload page. A body declared too large is refused before a byte of it is read, and
    the size guard stops an undeclared one as it passes the limit."""
    if request.method == "POST":
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > max_upload_bytes() + 64 * 1024:
            return _upload_page(request, UploadForm(), too_large_message(max_upload_bytes()),
                                status=413)
        request.upload_handlers.insert(0, SizeLimitHandler(request))
    return _new(request)


@csrf_protect
def _new(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _upload_page(request, UploadForm())
    guard = request.upload_handlers[0]
    form = UploadForm(request.POST, request.FILES)
    if getattr(guard, "rejected", None):
        return _upload_page(request, form, guard.rejected, status=413)
    if not form.is_valid():
        return _upload_page(request, form, status=400)
    services.targets_delete_expired()
    try:
        target = services.target_create(owner=request.user, upload=form.cleaned_data["file"])
    except services.UploadRejected as error:
        return _upload_page(request, form, str(error), status=400)
    return _redirect(request, target_url(target))


def _upload_page(request: HttpRequest, form: UploadForm, error: str | None = None, *,
                 status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "error": error,
        "targets": selectors.targets_for(request.user)[:8],
        "accept": ACCEPT_ATTRIBUTE,
        "ttl_hours": settings.SAFEFACE_TARGET_TTL_HOURS,
        "limits": {
            "image_mb": settings.SAFEFACE_MAX_IMAGE_BYTES // (1024 * 1024),
            "image_mp": settings.SAFEFACE_MAX_IMAGE_PIXELS // 1_000_000,
            "video_mb": settings.SAFEFACE_MAX_VIDEO_BYTES // (1024 * 1024),
            "video_minutes": round(settings.SAFEFACE_MAX_VIDEO_SECONDS / 60),
        },
    }
    if request.htmx:
        # htmx swaps in only 2xx responses: the form with its error must come back as one.
        return render(request, "swaps/new.html#upload-form", context)
    return render(request, "swaps/new.html", context, status=status)


def target_url(target: Target) -> str:
    return reverse("swaps:target", args=[target.pk])


# Target ---------------------------------------------------------------------------------------

@login_required
def target(request: HttpRequest, pk) -> HttpResponse:
    """The faces found in a target, the avatar picker and the options; POST runs the swap."""
    item = get_object_or_404(Target, pk=pk, owner=request.user)
    enhancer = services.enhancer_available()
    if request.method == "POST":
        form = SwapForm(request.POST, target=item, owner=request.user, enhancer=enhancer)
        if form.is_valid():
            data = form.cleaned_data
            try:
                swap = services.swap_request(
                    owner=request.user, target=item, avatar=data["avatar"],
                    faces=form.face_selection(), feather=data["feather"] / 100,
                    colour_match=data["colour_match"] / 100,
                    keep_audio=data.get("keep_audio", True), enhance=data.get("enhance", False))
            except services.SwapRefused as error:
                form.add_error(None, str(error))
            else:
                return _redirect(request, swap_url(swap))
        status = 400
    else:
        # The avatar asked for in the link ("swap again with …"), else the newest one.
        avatars = selectors.avatars_for(request.user)
        chosen = avatars.filter(pk=request.GET.get("avatar")).first() if request.GET.get(
            "avatar", "").count("-") == 4 else None
        chosen = chosen or avatars.first()
        initial = {"avatar": chosen.pk} if chosen else {}
        form = SwapForm(initial=initial, target=item, owner=request.user, enhancer=enhancer)
        status = 200
    context = {
        "target": item,
        "form": form,
        "faces": selectors.target_faces(item, form),
        "avatars": selectors.avatars_for(request.user),
        "swaps": selectors.swaps_of_target(item),
    }
    return render(request, "swaps/target.html", context, status=status)


@login_required
def target_preview(request: HttpRequest, pk) -> HttpResponse:
    item = get_object_or_404(Target, pk=pk, owner=request.user)
    return serve_private(item.thumbnail)


@login_required
def target_face(request: HttpRequest, pk, index: int) -> HttpResponse:
    item = get_object_or_404(Target, pk=pk, owner=request.user)
    if not 0 <= index < len(item.faces):
        raise Http404("No such face.")
    return _serve_name(item.file.storage, item.faces[index]["thumb"])


@require_POST
@login_required
def target_delete(request: HttpRequest, pk) -> HttpResponse:
    item = get_object_or_404(Target, pk=pk, owner=request.user)
    services.target_delete(target=item)
    return _redirect(request, reverse("swaps:new"))


# Swap -----------------------------------------------------------------------------------------

def swap_url(swap: Swap) -> str:
    return reverse("swaps:detail", args=[swap.pk])


@login_required
def detail(request: HttpRequest, pk) -> HttpResponse:
    """The swap: its job's progress (polled by htmx as the "status" fragment), then the result."""
    jobs_fail_stale()
    swap = get_object_or_404(Swap.objects.select_related("job", "target", "avatar"), pk=pk,
                             owner=request.user)
    context = {"swap": swap, "job": swap.job}
    if request.htmx and request.htmx.target == "swap-status":
        response = render(request, "swaps/detail.html#status", context)
        if swap.job.is_finished:
            # Stop polling and show the finished state in place of the progress bar.
            response.status_code = HttpResponseStopPolling.status_code
        return response
    return render(request, "swaps/detail.html", context)


@require_POST
@login_required
def cancel(request: HttpRequest, pk) -> HttpResponse:
    swap = get_object_or_404(Swap.objects.select_related("job"), pk=pk, owner=request.user)
    job_cancel(job=swap.job)
    return _redirect(request, swap_url(swap))


@login_required
def file(request: HttpRequest, pk, kind: str) -> HttpResponse:
    """The result ("output", inline, answering Range requests so a video player can seek) or its
    "thumbnail"; only a finished swap has either."""
    swap = get_object_or_404(Swap.objects.select_related("job"), pk=pk, owner=request.user)
    if kind not in ("output", "thumbnail") or swap.job.status != Job.Status.SUCCEEDED:
        raise Http404("This swap has no such file.")
    if kind == "thumbnail":
        return serve_private(swap.thumbnail)
    return _ranged(request, swap.output)


@login_required
def download(request: HttpRequest, pk) -> HttpResponse:
    swap = get_object_or_404(Swap.objects.select_related("job"), pk=pk, owner=request.user)
    if swap.job.status != Job.Status.SUCCEEDED or not swap.output:
        raise Http404("This swap has no result.")
    return serve_private(swap.output, download_name=swap.download_name)


@require_POST
@login_required
def delete(request: HttpRequest, pk) -> HttpResponse:
    swap = get_object_or_404(Swap.objects.select_related("job"), pk=pk, owner=request.user)
    services.swap_delete(swap=swap)
    return _redirect(request, reverse("gallery"))


# Files ----------------------------------------------------------------------------------------

def _serve_name(storage, name: str) -> FileResponse:
    if not name or not storage.exists(name):
        raise Http404("This file is no longer available.")
    content_type, _ = mimetypes.guess_type(name)
    response = FileResponse(storage.open(name, "rb"),
                            content_type=content_type or "application/octet-stream")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _ranged(request: HttpRequest, field_file) -> HttpResponse:
    """The file, whole or the one byte range asked for (206), streamed in chunks."""
    header = request.headers.get("Range", "")
    match = _RANGE.match(header.strip())
    if not match:
        response = serve_private(field_file)
        response["Accept-Ranges"] = "bytes"
        return response
    storage, name = field_file.storage, field_file.name
    if not name or not storage.exists(name):
        raise Http404("This file is no longer available.")
    size = storage.size(name)
    first, last = match.groups()
    if first:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    elif last:
        start, end = max(0, size - int(last)), size - 1
    else:
        start, end = 0, size - 1
    if start > end or start >= size:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    content_type, _ = mimetypes.guess_type(name)

    def chunks():
        with storage.open(name, "rb") as handle:
            handle.seek(start)
            left = end - start + 1
            while left > 0:
                data = handle.read(min(RANGE_CHUNK, left))
                if not data:
                    break
                left -= len(data)
                yield data

    response = StreamingHttpResponse(chunks(), status=206,
                                     content_type=content_type or "application/octet-stream")
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response

