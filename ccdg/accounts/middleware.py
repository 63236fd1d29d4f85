"""Throttled requests (HTTP 429: allauth's rate limits, django-axes' lockout) go into the
audit trail: the first refusal for a page from a client address, then at most one every
:data:`REPEAT_SECONDS`, so a guesser cannot flood the trail."""

from __future__ import annotations

import time
from collections.abc import Callable

from allauth.usersessions.models import UserSession
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from ccdg.audit import audit_record, client_ip

from .limits import first_in_window

REPEAT_SECONDS = 300


def audit_throttled(request: HttpRequest, data: dict[str, str]) -> None:
    """Record that a request was refused by a limit, once per page and address a while."""
    ip = client_ip(request)
    if first_in_window(f"throttled:{ip}:{request.path}", REPEAT_SECONDS):
        audit_record(
            actor=getattr(request, "user", None), action="signin.throttled", data=data, ip=ip
        )


class ThrottleAuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 429:
            audit_throttled(request, {"path": request.path})
        return response


SEEN_KEY = "ccdg_seen"
SEEN_EVERY_SECONDS = 300


def session_seen_now(request: HttpRequest) -> None:
    """Stamp the session as seen (at sign-in: allauth has just recorded it)."""
    request.session[SEEN_KEY] = int(time.time())


class SessionSeenMiddleware:
    """Keeps "last seen" of the list of one's sessions (allauth's ``UserSession``) up to date
    at most every five minutes, not on every request: a signed-in page costs no query for it
    in between. Sessions not opened through the sign-in page (none in production) are not
    listed."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        seen = session.get(SEEN_KEY) if session is not None else None
        if session is not None and seen is not None and request.user.is_authenticated:
            now = int(time.time())
            if now - seen >= SEEN_EVERY_SECONDS:
                UserSession.objects.create_from_request(request)
                session[SEEN_KEY] = now
        return self.get_response(request)


RENEWED_KEY = "ccdg_renewed"


def session_renew_seconds() -> int:
    """How often a signed-in session's expiry is pushed back: a minute, or less when the idle
    timeout is shorter than ten minutes."""
    return max(1, min(60, settings.SESSION_COOKIE_AGE // 10))


def session_renewed_now(request: HttpRequest) -> None:
    request.session[RENEWED_KEY] = int(time.time())


class SessionIdleMiddleware:
    """Turns the session's age into an idle timeout without writing the session on every
    request: its expiry is pushed back (the session saved) when a request comes at least
    :func:`session_renew_seconds` after the last renewal. A session therefore ends between
    ``SESSION_COOKIE_AGE`` minus one renewal period and ``SESSION_COOKIE_AGE`` after its last
    request, and a page read in between writes nothing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and request.user.is_authenticated:
            now = int(time.time())
            if now - int(session.get(RENEWED_KEY) or 0) >= session_renew_seconds():
                session[RENEWED_KEY] = now
        return self.get_response(request)
