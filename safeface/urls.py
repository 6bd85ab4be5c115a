"""SafeFace's URLs: pages of the site, accounts, jobs, and the avatar and swap apps."""
from django.urls import include, path

from safeface import views

urlpatterns = [
    path("", views.home, name="home"),
    path("gallery/", views.gallery, name="gallery"),
    path("accounts/", include("accounts.urls")),
    path("jobs/", include("jobs.urls")),
    path("avatars/", include("avatars.urls")),
    path("swaps/", include("swaps.urls")),
]
