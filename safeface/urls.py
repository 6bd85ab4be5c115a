"""SafeFace's URLs."""
from django.urls import path

urlpatterns: list = []
