"""Backends by capability and name, each loaded lazily once per process.

A backend class registers itself with ``@register("swap", "landmark", priority=10)``; the
highest-priority available backend is "best". Settings may name one explicitly.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass
from typing import Any

from worker.errors import ModelUnavailable

CAPABILITIES = ("analyse", "swap", "generate", "enhance")

# Modules that define backends; imported on first use so that importing the registry is cheap.
BACKEND_MODULES = (
    "worker.analysis",
    "worker.swap.landmark",
    "worker.swap.inswapper",
    "worker.swap.enhancer",
    "worker.generate.stylegan",
    "worker.generate.mobius",
)


@dataclass(frozen=True)
class Registration:
    capability: str
    name: str
    cls: type
    priority: int


_registrations: dict[tuple[str, str], Registration] = {}
_instances: dict[tuple[str, str], Any] = {}
_lock = threading.Lock()
_discovered = False


def register(capability: str, name: str, *, priority: int = 0):
    """Class decorator: make a backend known under (capability, name)."""
    if capability not in CAPABILITIES:
        raise ValueError(f"unknown capability {capability!r}")

    def decorate(cls: type) -> type:
        cls.name = name
        _registrations[(capability, name)] = Registration(capability, name, cls, priority)
        return cls

    return decorate


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    for module in BACKEND_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as error:
            # A backend module whose own optional dependency is missing is simply unavailable;
            # a missing module of ours is a bug and must surface.
            if error.name and error.name.startswith("worker"):
                raise
    _discovered = True


def backends(capability: str) -> list[Registration]:
    """Every registered backend of a capability, best first."""
    _discover()
    found = [r for (cap, _), r in _registrations.items() if cap == capability]
    return sorted(found, key=lambda r: -r.priority)


def is_available(capability: str, name: str) -> bool:
    _discover()
    registration = _registrations.get((capability, name))
    return bool(registration and registration.cls.available())


def best_name(capability: str) -> str:
    for registration in backends(capability):
        if registration.cls.available():
            return registration.name
    raise ModelUnavailable(f"No {capability} engine is installed.")


def get(capability: str, name: str | None = None) -> Any:
    """The loaded backend instance: the named one, or the best available. Loaded once."""
    _discover()
    name = name or best_name(capability)
    key = (capability, name)
    registration = _registrations.get(key)
    if registration is None:
        raise ModelUnavailable(f"There is no {capability} engine called {name!r}.")
    with _lock:
        if key not in _instances:
            if not registration.cls.available():
                raise ModelUnavailable(f"The {name} engine's files are not installed.")
            _instances[key] = registration.cls()
        return _instances[key]
