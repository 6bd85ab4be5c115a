"""The avatar builder's URLs: the builder, generation fragments, saved avatars."""
from django.urls import path

app_name = "avatars"

urlpatterns: list = []
