"""Ending a person's sessions (allauth's ``UserSession``): after a change of their roles or
rights (sessions_app/signin/sessions_end.py) and when their second factors are reset
(``manage.py mfa_reset``)."""

from __future__ import annotations

from typing import Any

from allauth.core import context
from allauth.usersessions.models import UserSession

from ccdg.audit import audit_record


def end_other_sessions(user: Any, *, reason: str) -> int:
    """End ``user``'s sessions but the one of the current request (all of them outside a
    request); how many ended. Audited as ``sessions.ended`` when any did."""
    request = getattr(context, "request", None)
    current = getattr(getattr(request, "session", None), "session_key", None)
    ended = 0
    for session in UserSession.objects.filter(user_id=user.pk).exclude(session_key=current or ""):
        session.end()
        ended += 1
    if ended:
        audit_record(
            actor=getattr(request, "user", None),
            action="sessions.ended",
            obj=user,
            data={"reason": reason, "sessions": ended},
        )
    return ended
