"""Site pages that belong to no single app: the home page and the per-user gallery."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from jobs.exports import exports_recent
from safeface.selectors import gallery_cards, gallery_entries

GALLERY_PAGE_SIZE = 12


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


@login_required
def gallery(request: HttpRequest) -> HttpResponse:
    paginator = Paginator(gallery_entries(user=request.user), GALLERY_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    context = {"page": page, "cards": gallery_cards(user=request.user, entries=page.object_list)}
    if request.htmx:
        return render(request, "gallery.html#items", context)
    context["exports"] = exports_recent(user=request.user)
    return render(request, "gallery.html", context)
