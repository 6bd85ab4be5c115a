"""Login rate limiting with Django's cache: no extra service, shared when the cache is Redis."""

from __future__ import annotations

import hashlib

from django.core.cache import cache
from django.http import HttpRequest

# Failures allowed per window, for one username from one address and for one address overall
# (the second stops a single address from trying many usernames).
WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_USERNAME = 5
MAX_FAILURES_PER_ADDRESS = 20


def client_address(request: HttpRequest) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is set by the client unless a trusted proxy rewrites it.
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _keys(*, address: str, username: str) -> tuple[str, str]:
    digest = hashlib.sha256(f"{address}|{username.strip().lower()}".encode()).hexdigest()
    return f"login-fail:user:{digest}", f"login-fail:addr:{address}"


def login_blocked(*, address: str, username: str) -> bool:
    user_key, address_key = _keys(address=address, username=username)
    counts = cache.get_many([user_key, address_key])
    return (
        counts.get(user_key, 0) >= MAX_FAILURES_PER_USERNAME
        or counts.get(address_key, 0) >= MAX_FAILURES_PER_ADDRESS
    )


def login_failed(*, address: str, username: str) -> None:
    for key in _keys(address=address, username=username):
        # add() starts the window on the first failure; incr() keeps its expiry.
        if not cache.add(key, 1, WINDOW_SECONDS):
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, WINDOW_SECONDS)


def login_succeeded(*, address: str, username: str) -> None:
    user_key, _ = _keys(address=address, username=username)
    cache.delete(user_key)
