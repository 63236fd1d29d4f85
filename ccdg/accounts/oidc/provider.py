"""The site's OpenID Connect provider: django-allauth's, stricter (docs/sign-in.md).

allauth's own provider trusts an ID token fetched over TLS without checking its signature
(the specification allows it) and sends no nonce. A hospital's security review expects both, so
this one

* sends a fresh random ``nonce`` with every sign-in and keeps it in the sign-in's state (the
  adapter, ``sessions_app.signin.sso``, refuses an ID token that does not carry it back);
* always checks the ID token's signature against the provider's published keys, as well as its
  issuer, audience and expiry;
* reads the e-mail address from the claim the site names (``CCDG_SSO_EMAIL_CLAIM``: Entra ID
  sends it as ``email`` or ``preferred_username``, some sites use ``upn``).

One provider is configured from the environment (``CCDG_OIDC_*``, ccdg/settings.py); its pages
are ``/accounts/sso/<provider id>/login/`` and ``.../login/callback/`` (the redirect URI to
register with the identity provider).
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from allauth.account.models import EmailAddress
from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.openid_connect.provider import (
    OpenIDConnectProvider,
    _pick_data,
)
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from allauth.utils import build_absolute_uri
from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from requests import RequestException

PROVIDER = "ccdg_oidc"
# Session key: set at a single sign-on whose provider asserted a second factor, when the site
# trusts it for that (sessions_app/signin/sso.py); the app then asks for none of its own.
MFA_BY_PROVIDER = "ccdg_mfa_by_provider"
# Session key: the provider a person signed in through (sign-out then offers its sign-out).
SSO_PROVIDER = "ccdg_sso_provider"


def claims(extra_data: dict[str, Any]) -> dict[str, Any]:
    """The person's claims: the userinfo answer over the ID token's (as allauth keeps them)."""
    merged = dict(extra_data.get("id_token") or {})
    merged.update(extra_data.get("userinfo") or {})
    return merged


def email_claim(data: dict[str, Any]) -> str:
    value = data.get(settings.SSO_EMAIL_CLAIM) or ""
    return str(value).strip() if isinstance(value, str) else ""


class VerifyingAdapter(OpenIDConnectOAuth2Adapter):
    def get_callback_url(self, request: HttpRequest, app: Any) -> str:
        path = reverse("ccdg_oidc_callback", kwargs={"provider_id": self.provider_id})
        return str(build_absolute_uri(request, path, self.redirect_uri_protocol))

    def _decode_id_token(self, app: Any, id_token: str) -> dict[str, Any]:
        config = self.openid_config
        return dict(
            jwtkit.verify_and_decode(
                credential=id_token,
                keys_url=config["jwks_uri"],
                issuer=config["issuer"],
                audience=app.client_id,
                lookup_kid=jwtkit.lookup_kid_jwk,
                verify_signature=True,
            )
        )


class SiteOpenIDConnectProvider(OpenIDConnectProvider):
    id = PROVIDER
    name = "Single sign-on"
    oauth2_adapter_class = VerifyingAdapter

    def redirect(
        self,
        request: HttpRequest,
        process: Any,
        next_url: Any = None,
        data: Any = None,
        **kwargs: Any,
    ) -> Any:
        nonce = secrets.token_urlsafe(32)
        auth_params = kwargs.pop("auth_params", None)
        if auth_params is None:
            auth_params = self.get_auth_params()
        auth_params = {**auth_params, "nonce": nonce}
        return super().redirect(
            request, process, next_url, data, auth_params=auth_params, nonce=nonce, **kwargs
        )

    def extract_common_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        fields = dict(super().extract_common_fields(data))
        fields["email"] = email_claim(_pick_data(data)) or None
        return fields

    def extract_email_addresses(self, data: dict[str, Any]) -> list[EmailAddress]:
        found = _pick_data(data)
        email = email_claim(found)
        if not email:
            return []
        return [
            EmailAddress(email=email, verified=found.get("email_verified") is True, primary=True)
        ]


provider_classes = [SiteOpenIDConnectProvider]


def end_session_url(request: HttpRequest, provider_id: str) -> str | None:
    """The provider's own sign-out address for this site (OpenID Connect RP-initiated logout,
    coming back to the sign-in page), or None: an unknown provider, one without a sign-out
    endpoint, or one that does not answer."""
    adapter = VerifyingAdapter(request, provider_id)
    try:
        provider = adapter.get_provider()
        endpoint = adapter.openid_config.get("end_session_endpoint")
    except (SocialApp.DoesNotExist, RequestException, ValueError):
        return None
    if not endpoint:
        return None
    back = build_absolute_uri(request, reverse("account_login"), adapter.redirect_uri_protocol)
    query = urlencode({"client_id": provider.app.client_id, "post_logout_redirect_uri": back})
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"
