"""Sign-in events in the audit trail: who signed in and out and how, every lockout, every
second factor added, removed or renewed, every password changed or reset."""

from __future__ import annotations

from typing import Any

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import signals as auth_signals

from ccdg.audit import audit_record, client_ip

from .limits import first_in_window
from .middleware import session_renewed_now, session_seen_now
from .oidc.provider import SSO_PROVIDER


def _ip(request: Any) -> str | None:
    return client_ip(request) if request is not None else None


def _signed_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """A sign-in through the sign-in page (allauth's signal: tests' force_login is not one)."""
    methods = request.session.get("account_authentication_methods") or []
    method = methods[0].get("method", "") if methods else ""
    session_seen_now(request)
    data = {"method": method}
    sociallogin = kwargs.get("sociallogin")
    if sociallogin is not None:
        # Signed in through the identity provider: sign-out offers the provider's too.
        data["provider"] = request.session[SSO_PROVIDER] = sociallogin.account.provider
    audit_record(actor=user, action="signin", data=data, ip=_ip(request))


def _session_started(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Any sign-in (Django's signal) starts the idle clock: its first page writes nothing."""
    if request is not None and hasattr(request, "session"):
        session_renewed_now(request)


def _signed_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(actor=user, action="signout", ip=_ip(request))


def _locked_out(sender: Any, request: Any, username: str, ip_address: str, **kwargs: Any) -> None:
    # django-axes signals again on each attempt refused while locked: record the lockout once.
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    if first_in_window(f"locked:{username}:{ip_address}", seconds):
        audit_record(
            actor=None,
            action="signin.locked_out",
            data={"username": username or "", "failures": settings.AXES_FAILURE_LIMIT},
            ip=ip_address,
        )


def _authenticator(action: str):  # type: ignore[no-untyped-def]
    def receiver(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
        audit_record(
            actor=user,
            action=action,
            obj=authenticator,
            data={"type": authenticator.type},
            ip=_ip(request),
        )

    return receiver


def _password(action: str):  # type: ignore[no-untyped-def]
    def receiver(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
        audit_record(actor=user, action=action, obj=user, ip=_ip(request))

    return receiver


_RECEIVERS = [
    (account_signals.user_logged_in, _signed_in),
    (auth_signals.user_logged_in, _session_started),
    (auth_signals.user_logged_out, _signed_out),
    (user_locked_out, _locked_out),
    (mfa_signals.authenticator_added, _authenticator("mfa.added")),
    (mfa_signals.authenticator_removed, _authenticator("mfa.removed")),
    (mfa_signals.authenticator_reset, _authenticator("mfa.renewed")),
    (account_signals.password_changed, _password("password.changed")),
    (account_signals.password_reset, _password("password.reset")),
]


def connect() -> None:
    for signal, receiver in _RECEIVERS:
        signal.connect(receiver, dispatch_uid=f"ccdg.accounts.{id(receiver)}")
