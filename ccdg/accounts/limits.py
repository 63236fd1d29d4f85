"""What the sign-in limits count (settings ``AXES_*``, ``SIGNIN_*``, ``PASSWORD_RESET_*``)."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache


def attempted_username(request: Any, credentials: dict[str, Any] | None) -> str | None:
    """The name a sign-in attempt was made for, as typed, folded to lower case: the form's
    single "username or email" field reaches the backends as ``username`` or ``email``.

    django-axes keys its lockout on this and the client address, so "Coordinator" and
    "coordinator" are one account, and an address typed by one person locks only that address
    at that person's client."""
    credentials = credentials or {}
    for field in ("username", "email", "login"):
        value = credentials.get(field)
        if value:
            return str(value).strip().lower()
    if request is not None and request.method == "POST":
        value = request.POST.get("login") or request.POST.get("username")
        if value:
            return str(value).strip().lower()
    return None


def first_in_window(key: str, seconds: int) -> bool:
    """Whether this is the first time ``key`` is seen in ``seconds`` (then it is remembered
    for that long): how the audit trail records a repeated refusal once, not on every try."""
    return bool(cache.add(f"ccdg:once:{key}", 1, seconds))
