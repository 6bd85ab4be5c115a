"""Job URLs: the polled status fragment, cancel, and the data export."""

from django.urls import path

from jobs import views

app_name = "jobs"

urlpatterns = [
    path("export/", views.export_create, name="export"),
    path("<uuid:pk>/status/", views.status, name="status"),
    path("<uuid:pk>/cancel/", views.cancel, name="cancel"),
    path("<uuid:pk>/download/", views.download, name="download"),
]
