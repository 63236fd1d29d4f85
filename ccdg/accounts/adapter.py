"""django-allauth's hooks for this app (settings ``ACCOUNT_ADAPTER``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse

from ccdg.audit import audit_record, client_ip

from .limits import attempted_username
from .middleware import audit_throttled
from .oidc.provider import MFA_BY_PROVIDER, SSO_PROVIDER


def password_allowed(user: Any) -> bool:
    """May this account sign in with a password here? (``CCDG_LOCAL_PASSWORDS``)"""
    if settings.LOCAL_PASSWORDS:
        return True
    return bool(user.is_staff and user.get_username().lower() in settings.BREAK_GLASS_USERS)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Accounts come from a coordinator's invitation (the roster) or from single sign-on
        # matched to the roster, never from a public sign-up page.
        return False

    def get_client_ip(self, request: HttpRequest) -> str:
        # The same address the audit trail and django-axes record (CCDG_TRUSTED_PROXY_COUNT).
        return client_ip(request) or "unknown"

    def authenticate(self, request: HttpRequest, **credentials: Any):  # type: ignore[no-untyped-def]
        user = super().authenticate(request, **credentials)
        if user is not None and not password_allowed(user):
            audit_record(actor=user, action="signin.password_refused", ip=client_ip(request))
            raise ValidationError(
                "This site signs you in through your organisation's account: use the "
                "single sign-on button. Passwords work only for the emergency staff account."
            )
        return user

    def get_logout_redirect_url(self, request: HttpRequest) -> str:
        # Called before the session ends: it still says how the person signed in.
        provider = request.session.get(SSO_PROVIDER) if hasattr(request, "session") else None
        if provider:
            return f"{reverse('account_signed_out')}?{urlencode({'provider': provider})}"
        return str(super().get_logout_redirect_url(request))

    def get_login_stages(self) -> list[str]:
        stages = list(super().get_login_stages())
        session = getattr(getattr(self, "request", None), "session", None)
        if session is not None and session.get(MFA_BY_PROVIDER):
            # The identity provider asserted a second factor and the site trusts it for that.
            stages = [s for s in stages if s != "allauth.mfa.stages.AuthenticateStage"]
        return stages

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            username = attempted_username(request, credentials) or ""
            audit_throttled(request, {"path": request.path, "username": username})
            raise
