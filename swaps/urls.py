"""URLs of the swap flow: upload a target, pick faces and an avatar, follow and fetch the swap."""

from django.urls import path

from swaps import views

app_name = "swaps"

urlpatterns = [
    path("", views.new, name="new"),
    path("targets/<uuid:pk>/", views.target, name="target"),
    path("targets/<uuid:pk>/preview/", views.target_preview, name="target_preview"),
    path("targets/<uuid:pk>/faces/<int:index>/", views.target_face, name="target_face"),
    path("targets/<uuid:pk>/delete/", views.target_delete, name="target_delete"),
    path("<uuid:pk>/", views.detail, name="detail"),
    path("<uuid:pk>/cancel/", views.cancel, name="cancel"),
    path("<uuid:pk>/file/<str:kind>/", views.file, name="file"),
    path("<uuid:pk>/download/", views.download, name="download"),
    path("<uuid:pk>/delete/", views.delete, name="delete"),
]
