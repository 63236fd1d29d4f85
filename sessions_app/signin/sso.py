"""Single sign-on: who may come in through the identity provider, and as whom.

django-allauth runs the OpenID Connect exchange (``ccdg.accounts.oidc``) and the SAML 2.0 one
(``ccdg.accounts.saml``); this adapter
(``SOCIALACCOUNT_ADAPTER``) decides what an identity provider's answer is worth:

* the ID token must carry back the nonce the sign-in sent (replayed or injected tokens fail); a
  SAML response must answer a sign-in this browser started (a replayed assertion fails);
* the address (claim ``CCDG_SSO_EMAIL_CLAIM``) must be verified: ``email_verified`` true, or a
  site that declares its provider's addresses verified (``CCDG_SSO_EMAILS_VERIFIED``, for
  Entra ID, which sends no such claim); a false ``email_verified`` is refused either way;
* its domain must be one of ``CCDG_SSO_ALLOWED_DOMAINS`` when the site names any;
* the person must be known: an active account with that address, or a roster or facilitator
  entry, which then gets its account (:func:`account_for_verified_email`). Nobody gets a role
  by signing in;
* a provider that asserted a second factor (``amr`` or ``acr`` in the ID token, matched against
  ``CCDG_SSO_MFA_AMR`` / ``CCDG_SSO_MFA_ACR``) spares the person the app's own second factor,
  only when the site trusts it for that (``CCDG_SSO_TRUST_MFA``).

Every refusal, and every error of the exchange (a bad signature, audience, issuer or expiry, a
provider that is down, a cancelled sign-in), is a clear page and an audit entry
(``signin.sso_refused``, ``signin.sso_failed``); nobody is signed in.
"""

from __future__ import annotations

import hmac
from typing import Any

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import render
from requests import RequestException

from ccdg.accounts.oidc.provider import claims, email_claim
from ccdg.accounts.saml import email_verified
from ccdg.audit import audit_record, client_ip
from sessions_app.roster.services import account_for_verified_email

from .second_factor import PROVIDER_ASSERTED

# Why a sign-in was refused: what the page tells the person.
REASONS = {
    "nonce": "The answer from your organisation's sign-in did not belong to this sign-in "
    "(it may have been used before). Please start again.",
    "state": "The answer from your organisation's sign-in did not belong to a sign-in started "
    "in this browser (it may have been used before). Please start again.",
    "no_email": "Your organisation's sign-in did not tell us your e-mail address, so we "
    "cannot tell who you are. Ask your IT team to release the e-mail claim to this app.",
    "unverified": "Your organisation's sign-in has not verified your e-mail address, so we "
    "cannot match you to the program's roster.",
    "domain": "Accounts from this organisation cannot sign in here.",
    "unknown": "We could not find you on a program's roster. Ask your program's coordinator "
    "to add you (with the e-mail address your organisation's sign-in uses).",
    "inactive": "This account is not active. Ask your program's coordinator or the site's "
    "administrator.",
    "mismatch": "This organisation account belongs to someone else's account here.",
}


def provider_asserted_mfa(data: dict[str, Any]) -> bool:
    """Did the provider say the person used more than one factor?"""
    amr = data.get("amr") or []
    amr = [amr] if isinstance(amr, str) else list(amr)
    acr = str(data.get("acr") or "")
    return bool(set(amr) & set(settings.SSO_MFA_AMR)) or (acr != "" and acr in settings.SSO_MFA_ACR)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def refuse(self, request: HttpRequest, reason: str, data: dict[str, Any]) -> None:
        audit_record(
            actor=None, action="signin.sso_refused", data={"reason": reason, **data},
            ip=client_ip(request),
        )  # fmt: skip
        page = render(request, "account/sso_refused.html", {"message": REASONS[reason]}, status=403)
        raise ImmediateHttpResponse(page)

    def identity(self, sociallogin: Any) -> tuple[str, bool | None, dict[str, Any]]:
        """What the provider said: the address, whether it is verified (None: not said), and
        the ID token's claims (OpenID Connect; empty for SAML)."""
        account = sociallogin.account
        provider = account.get_provider()
        if provider.id == "saml":
            email = (getattr(sociallogin.user, "email", "") or "").strip()
            return email, email_verified(provider, account.extra_data), {}
        found = claims(account.extra_data)
        verified = found.get("email_verified")
        token = account.extra_data.get("id_token") or {}
        return email_claim(found), verified if isinstance(verified, bool) else None, token

    def pre_social_login(self, request: HttpRequest, sociallogin: Any) -> None:
        account = sociallogin.account
        facts: dict[str, Any] = {"provider": account.provider}
        email, verified, token = self.identity(sociallogin)
        state = sociallogin.state or {}
        if account.get_provider().id == "saml":
            # A response to a sign-in this browser started (its request id, kept in the
            # session, is gone after one use): not replayed, not sent to someone else.
            if not state.get("process"):
                self.refuse(request, "state", facts)
        else:
            sent = str(state.get("nonce") or "")
            if not sent or not hmac.compare_digest(sent, str(token.get("nonce") or "")):
                self.refuse(request, "nonce", facts)
        if not email or "@" not in email:
            self.refuse(request, "no_email", facts)
        domain = email.rsplit("@", 1)[1].lower()
        facts["domain"] = domain
        if verified is False or (verified is None and not settings.SSO_EMAILS_VERIFIED):
            self.refuse(request, "unverified", facts)
        if settings.SSO_ALLOWED_DOMAINS and domain not in settings.SSO_ALLOWED_DOMAINS:
            self.refuse(request, "domain", facts)
        if (sociallogin.state or {}).get("process") == "connect":
            # Linking one's own organisation account from the connections page: it must be
            # one's own address; allauth then links it.
            if email.lower() != (request.user.email or "").lower():
                self.refuse(request, "mismatch", {**facts, "user": request.user.pk})
        elif sociallogin.is_existing:
            user = sociallogin.user
            if not user.is_active:
                self.refuse(request, "inactive", {**facts, "user": user.pk})
            if request.user.is_authenticated and request.user.pk != user.pk:
                self.refuse(request, "mismatch", {**facts, "user": request.user.pk})
        else:
            user = account_for_verified_email(email=email, provider=account.provider)
            if user is None:
                self.refuse(request, "unknown", facts)
            if request.user.is_authenticated and request.user.pk != user.pk:
                self.refuse(request, "mismatch", {**facts, "user": request.user.pk})
            sociallogin.connect(request, user)
            audit_record(
                actor=user, action="sso.linked", obj=user, data=facts, ip=client_ip(request)
            )
        if settings.SSO_TRUST_MFA and provider_asserted_mfa(token):
            request.session[PROVIDER_ASSERTED] = True
        else:
            request.session.pop(PROVIDER_ASSERTED, None)

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: Any = None,
        exception: Any = None,
        extra_context: Any = None,
    ) -> None:
        if extra_context is not None:
            # The page says "try again later" rather than "not accepted".
            extra_context["provider_down"] = isinstance(exception, RequestException)
        audit_record(
            actor=None,
            action="signin.sso_failed",
            data={
                "provider": getattr(getattr(provider, "app", None), "provider_id", "") or "",
                "error": str(error or ""),
                "exception": type(exception).__name__ if exception is not None else "",
            },
            ip=client_ip(request),
        )

    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        # Every known person was linked in pre_social_login; nobody else gets an account.
        return False
