"""The avatar builder's URLs: the builder, generation fragments, saved avatars."""
from django.urls import path

from avatars import views

app_name = "avatars"

urlpatterns = [
    path("", views.builder, name="builder"),
    path("generations/<uuid:pk>/", views.generation, name="generation"),
    path("generations/<uuid:pk>/cancel/", views.generation_cancel, name="generation_cancel"),
    path("candidates/<uuid:pk>/save/", views.candidate_save, name="candidate_save"),
    path("candidates/<uuid:pk>/<str:kind>/", views.candidate_file, name="candidate_file"),
    path("<uuid:pk>/", views.detail, name="detail"),
    path("<uuid:pk>/rename/", views.rename, name="rename"),
    path("<uuid:pk>/delete/", views.delete, name="delete"),
    path("<uuid:pk>/file/<str:kind>/", views.file, name="file"),
]
