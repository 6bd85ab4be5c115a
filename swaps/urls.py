"""URLs of the swap flow: upload a target, pick faces and an avatar, follow and fetch the swap."""

from django.urls import path

app_name = "swaps"

urlpatterns: list = []
