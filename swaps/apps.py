"""The swaps app."""
from django.apps import AppConfig


class SwapsConfig(AppConfig):
    name = "swaps"
    default_auto_field = "django.db.models.BigAutoField"
