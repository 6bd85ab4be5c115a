"""The Tailwind theme app that django-tailwind builds."""
from django.apps import AppConfig


class ThemeConfig(AppConfig):
    name = "theme"
