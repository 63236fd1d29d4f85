"""A second factor for everyone who can see confidential or personal data.

With ``MFA_REQUIRED`` (``CCDG_MFA_REQUIRED``, on by default in production), site staff,
coordinators, report viewers and facilitators who have no authenticator yet are taken to the
two-factor page on their next request, and can do nothing else until they add one (or sign
out). Someone whose identity provider asserted a second factor at sign-in, when the site trusts
that provider for it, is not asked again. Participants are not required to enrol, and may.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from ccdg.accounts.oidc.provider import MFA_BY_PROVIDER
from sessions_app import roles

# The session remembers the answer, so a signed-in page costs no query for it.
SESSION_KEY = "ccdg_second_factor"
OK = "ok"
# Set at a single sign-on whose provider asserted a second factor (sessions_app/signin/sso.py).
PROVIDER_ASSERTED = MFA_BY_PROVIDER
ROLES_THAT_NEED_IT = frozenset({roles.COORDINATOR, roles.REPORT_VIEWER, roles.FACILITATOR})


def second_factor_required(user: Any) -> bool:
    """Does this person's position call for a second factor?"""
    if roles.is_staff(user):
        return True
    return any(held & ROLES_THAT_NEED_IT for held in roles.role_map(user).values())


def must_enrol(request: HttpRequest) -> bool:
    session = request.session
    if session.get(SESSION_KEY) == OK or session.get(PROVIDER_ASSERTED):
        return False
    user = request.user
    if not second_factor_required(user) or Authenticator.objects.filter(user=user).exists():
        session[SESSION_KEY] = OK
        return False
    return True


def _exempt_prefixes() -> tuple[str, ...]:
    # The two-factor pages, re-authentication (asked before adding one), signing out, the
    # list of one's sessions, static files and the health check.
    return (
        reverse("mfa_index"),
        reverse("account_reauthenticate"),
        reverse("account_logout"),
        reverse("usersessions_list"),
        settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/" + settings.STATIC_URL,
        reverse("healthz"),
    )


class SecondFactorRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.MFA_REQUIRED
            and request.user.is_authenticated
            and not request.path.startswith(_exempt_prefixes())
            and must_enrol(request)
        ):
            messages.info(
                request,
                "Your role in the program gives you access to confidential information: add a "
                "second factor (an authenticator app or a passkey) to continue.",
            )
            return redirect("mfa_index")
        return self.get_response(request)


def enrolled(sender: Any, request: Any = None, **kwargs: Any) -> None:
    """An authenticator was added: this session may go on."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = OK


def removed(sender: Any, request: Any = None, **kwargs: Any) -> None:
    """An authenticator was removed: ask again (from the next request) if one is required."""
    if request is not None and hasattr(request, "session"):
        request.session.pop(SESSION_KEY, None)
