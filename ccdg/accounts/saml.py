"""The site's SAML 2.0 provider: django-allauth's (python3-saml), with three changes
(``SOCIALACCOUNT_PROVIDERS["saml"]["provider_class"]``, docs/sign-in.md):

* a response that answers no sign-in started in this browser (a replayed assertion, or one
  sent to another browser) has no state: allauth answers a bare 403; here it continues with
  an empty state, which the adapter (``sessions_app/signin/sso.py``) refuses with its page
  and an audit entry;
* an identity provider that cannot be reached when the sign-in starts (its metadata address
  down) is a page and an audit entry, not a server error;
* the address's verification is read from the attribute the site maps to ``email_verified``
  (most providers send none: ``CCDG_SSO_EMAILS_VERIFIED`` then decides).
"""

from __future__ import annotations

from typing import Any
from urllib.error import URLError

from allauth.socialaccount.helpers import render_authentication_error
from allauth.socialaccount.providers.saml.provider import SAMLProvider
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from onelogin.saml2.errors import OneLogin_Saml2_Error


class SiteSAMLProvider(SAMLProvider):
    # allauth finds a provider's pages in its package: allauth's SAML pages, unchanged.
    package = "allauth.socialaccount.providers.saml"

    def unstash_redirect_state(self, request: HttpRequest, state_id: Any) -> dict[str, Any]:
        # allauth answers a bare 403 here; the adapter refuses with a page and an audit entry.
        try:
            return super().unstash_redirect_state(request, state_id) or {}
        except PermissionDenied:
            return {}

    def redirect(
        self,
        request: HttpRequest,
        process: Any,
        next_url: Any = None,
        data: Any = None,
        **kwargs: Any,
    ) -> HttpResponse:
        try:
            return super().redirect(request, process, next_url, data, **kwargs)
        except (URLError, OSError, OneLogin_Saml2_Error) as exc:
            return render_authentication_error(request, self, exception=exc)


def email_verified(provider: Any, attributes: dict[str, list[str]]) -> bool | None:
    """What the mapped ``email_verified`` attribute says: True, False, or None if absent."""
    mapping = provider.app.settings.get("attribute_mapping", provider.default_attribute_mapping)
    names = mapping.get("email_verified", [])
    for name in [names] if isinstance(names, str) else names:
        values = attributes.get(name)
        if values:
            return str(values[0]).strip().lower() in ("true", "1", "t", "y", "yes")
    return None
