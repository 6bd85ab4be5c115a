"""Builder, generation fragments and saved-avatar pages. Thin: forms validate, services write,
htmx gets the fragment of the same template."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, HttpResponseStopPolling, retarget

from avatars import selectors, services
from avatars.forms import AttributeForm, AvatarRenameForm, CandidateSaveForm
from avatars.models import Avatar, Candidate, Generation
from safeface.files import serve_private
from worker.attributes import FIELDS_BY_NAME, InvalidAttributes
from worker.errors import EngineError

BUILDER = "avatars/builder.html"
DETAIL = "avatars/detail.html"


def _builder_context(
    request: HttpRequest,
    *,
    form: AttributeForm | None = None,
    generation: Generation | None = None,
    save_errors: dict | None = None,
) -> dict:
    engine = selectors.generate_engine_name()
    unsupported = selectors.engine_unsupported(engine)
    if form is None:
        initial = generation.attributes if generation else None
        form = AttributeForm(initial=initial, unsupported=unsupported)
    form.unsupported = unsupported
    count = selectors.avatar_count(user=request.user)
    limit = selectors.avatar_limit()
    return {
        "form": form,
        "engine": engine,
        "unsupported_labels": [
            FIELDS_BY_NAME[name].label for name in FIELDS_BY_NAME if name in unsupported
        ],
        "avatar_count": count,
        "avatar_limit": limit,
        "limit_reached": count >= limit,
        "generation": generation,
        "job": generation.job if generation else None,
        "candidates": list(generation.candidates.select_related("saved_as")) if generation else [],
        "save_errors": save_errors or {},
    }


@login_required
@require_http_methods(["GET", "POST"])
def builder(request: HttpRequest) -> HttpResponse:
    """The builder. POST carries an ``action``: surprise and clear redraw the form; generate
    starts a job and shows its candidates as they are made."""
    if request.method == "GET":
        generation = selectors.generation_latest(user=request.user)
        return render(request, BUILDER, _builder_context(request, generation=generation))

    action = request.POST.get("action", "generate")
    unsupported = selectors.engine_unsupported(selectors.generate_engine_name())
    if action in ("surprise", "clear"):
        bound = AttributeForm(request.POST, unsupported=unsupported)
        count = bound.cleaned_data["count"] if bound.is_valid() else None
        initial = services.attributes_surprise() if action == "surprise" else {}
        if count:
            initial["count"] = count
        form = AttributeForm(initial=initial, unsupported=unsupported)
        if request.htmx:
            return render(
                request, f"{BUILDER}#attribute-form", _builder_context(request, form=form)
            )
        generation = selectors.generation_latest(user=request.user)
        return render(request, BUILDER, _builder_context(request, form=form, generation=generation))
    if action != "generate":
        raise Http404("Unknown builder action.")

    form = AttributeForm(request.POST, unsupported=unsupported)
    if form.is_valid():
        try:
            generation = services.generation_create(
                user=request.user, attributes=form.attributes(), count=form.count()
            )
        except (
            InvalidAttributes,
            services.GenerationRefused,
            services.AvatarLimitReached,
            EngineError,
        ) as error:
            form.add_error(None, str(error))
        else:
            if request.htmx:
                return render(
                    request,
                    f"{BUILDER}#candidates",
                    _builder_context(request, form=form, generation=generation),
                )
            return redirect("avatars:generation", generation.pk)
    if request.htmx:
        response = render(
            request, f"{BUILDER}#attribute-form", _builder_context(request, form=form)
        )
        return retarget(response, "#attribute-form")
    generation = selectors.generation_latest(user=request.user)
    return render(
        request, BUILDER, _builder_context(request, form=form, generation=generation), status=400
    )


@login_required
@require_GET
def generation(request: HttpRequest, pk) -> HttpResponse:
    """A generation in the builder; htmx polls its candidates fragment until the job ends."""
    generation = get_object_or_404(
        Generation.objects.select_related("job"), pk=pk, owner=request.user
    )
    context = _builder_context(request, generation=generation)
    if not request.htmx:
        return render(request, BUILDER, context)
    response = render(request, f"{BUILDER}#candidates", context)
    if generation.job.is_finished:
        return HttpResponseStopPolling(response.content)
    return response


@login_required
@require_POST
def generation_cancel(request: HttpRequest, pk) -> HttpResponse:
    generation = get_object_or_404(Generation, pk=pk, owner=request.user)
    services.generation_cancel(generation=generation)
    generation.refresh_from_db()
    if request.htmx:
        return render(
            request, f"{BUILDER}#candidates", _builder_context(request, generation=generation)
        )
    return redirect("avatars:generation", generation.pk)


@login_required
@require_POST
def candidate_save(request: HttpRequest, pk) -> HttpResponse:
    """Name a picked candidate and save it as an Avatar."""
    candidate = get_object_or_404(
        Candidate.objects.select_related("generation__job", "saved_as"),
        pk=pk,
        generation__owner=request.user,
    )
    generation = candidate.generation
    form = CandidateSaveForm(request.POST)
    if form.is_valid():
        try:
            avatar = services.avatar_create_from_candidate(
                user=request.user, candidate=candidate, name=form.cleaned_data["name"]
            )
        except services.AvatarLimitReached as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Saved “{avatar.name}”.")
            url = reverse("avatars:detail", args=[avatar.pk])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    context = _builder_context(
        request, generation=generation, save_errors={candidate.pk: form.errors}
    )
    if request.htmx:
        return render(request, f"{BUILDER}#candidates", context)
    return render(request, BUILDER, context, status=400)


@login_required
@require_GET
def candidate_file(request: HttpRequest, pk, kind: str) -> HttpResponse:
    candidate = get_object_or_404(Candidate, pk=pk, generation__owner=request.user)
    if kind not in ("image", "face"):
        raise Http404("No such file.")
    return serve_private(candidate.image if kind == "image" else candidate.face_crop)


@login_required
@require_GET
def detail(request: HttpRequest, pk) -> HttpResponse:
    avatar = get_object_or_404(Avatar, pk=pk, owner=request.user)
    return render(request, DETAIL, {"avatar": avatar})


@login_required
@require_http_methods(["GET", "POST"])
def rename(request: HttpRequest, pk) -> HttpResponse:
    """Inline rename: htmx swaps the name for a form and back; without JS it is a page."""
    avatar = get_object_or_404(Avatar, pk=pk, owner=request.user)
    if request.method == "POST":
        form = AvatarRenameForm(request.POST, instance=Avatar.objects.get(pk=avatar.pk))
        if form.is_valid():
            avatar = services.avatar_rename(avatar=avatar, name=form.cleaned_data["name"])
            if request.htmx:
                return render(request, f"{DETAIL}#name", {"avatar": avatar})
            return redirect("avatars:detail", avatar.pk)
    else:
        form = AvatarRenameForm(instance=avatar)
    context = {"avatar": avatar, "rename_form": form}
    if request.htmx:
        return render(request, f"{DETAIL}#rename-form", context)
    return render(request, DETAIL, context, status=400 if form.errors else 200)


@login_required
@require_GET
def file(request: HttpRequest, pk, kind: str) -> HttpResponse:
    """The portrait or face crop, owner only; ``?download=1`` saves it under a clear name."""
    avatar = get_object_or_404(Avatar, pk=pk, owner=request.user)
    if kind not in ("image", "face"):
        raise Http404("No such file.")
    field = avatar.image if kind == "image" else avatar.face_crop
    suffix = "" if kind == "image" else "-face"
    name = f"safeface-avatar-{avatar.pk}{suffix}.png" if request.GET.get("download") else None
    return serve_private(field, download_name=name)


@login_required
@require_http_methods(["GET", "POST"])
def delete(request: HttpRequest, pk) -> HttpResponse:
    """GET asks for confirmation; POST deletes the avatar and its files."""
    avatar = get_object_or_404(Avatar, pk=pk, owner=request.user)
    if request.method == "GET":
        return render(request, "avatars/delete.html", {"avatar": avatar})
    name = avatar.name
    services.avatar_delete(avatar=avatar)
    messages.success(request, f"Deleted “{name}” and its files.")
    url = reverse("gallery")
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
