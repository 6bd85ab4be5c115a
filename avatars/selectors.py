"""Reads for the builder: which engine generates, what it can honour, the user's limit."""

from __future__ import annotations

from django.conf import settings

from avatars.models import Avatar, Generation
from worker import registry
from worker.attributes import FIELDS_BY_NAME
from worker.errors import ModelUnavailable


def generate_engine_name() -> str | None:
    """The engine the next generation uses: the one SAFEFACE_GENERATE_ENGINE names when it is
    installed, else the best installed one; None when no generator is installed at all."""
    wanted = settings.SAFEFACE_GENERATE_ENGINE
    if wanted and wanted != "best" and registry.is_available("generate", wanted):
        return wanted
    try:
        return registry.best_name("generate")
    except ModelUnavailable:
        return None


def engine_supported(name: str) -> frozenset[str]:
    """The attribute fields an engine can honour. An engine that declares no ``SUPPORTED`` set
    reads every attribute from its prompt, so it is taken to honour them all."""
    registration = next((r for r in registry.backends("generate") if r.name == name), None)
    supported = getattr(registration.cls, "SUPPORTED", None) if registration else None
    if supported is None:
        return frozenset(FIELDS_BY_NAME)
    return frozenset(supported) & frozenset(FIELDS_BY_NAME)


def engine_unsupported(name: str | None) -> frozenset[str]:
    """The fields the engine cannot honour (all of them when there is no engine)."""
    if name is None:
        return frozenset(FIELDS_BY_NAME)
    return frozenset(FIELDS_BY_NAME) - engine_supported(name)


def avatar_limit() -> int:
    return settings.SAFEFACE_MAX_AVATARS


def avatar_count(*, user) -> int:
    return Avatar.objects.filter(owner=user).count()


def avatar_limit_reached(*, user) -> bool:
    return avatar_count(user=user) >= avatar_limit()


def generation_latest(*, user) -> Generation | None:
    """The user's most recent generation whose candidates are still kept, if any."""
    return (
        Generation.objects.filter(owner=user).select_related("job").order_by("-created_at").first()
    )
