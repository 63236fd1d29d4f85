"""The sign-in pages: django-allauth's, with two changes (docs/sign-in.md).

* allauth's unnamed redirects from its old ``social/`` addresses are left out: nothing here
  ever linked to them.
* The sign-in page (and the page of one's linked organisation accounts) may send its forms
  on to the configured identity providers: their buttons post here, and the redirect to the
  provider is subject to the page's Content-Security-Policy ``form-action``.
* The page a failed single sign-on ends on is public, like the sign-in page: the person is
  not signed in when their provider's answer is refused.
* A page after signing out of a session begun at the identity provider, offering the
  provider's own sign-out.
* The e-mail page shows the address and who manages it instead of letting a person add or
  change addresses: a person's address is their roster entry's, kept by the coordinator, and
  single sign-on matches people by it.
"""

from __future__ import annotations

from allauth import urls as allauth_urls
from allauth.account import views as account_views
from allauth.socialaccount import views as socialaccount_views
from django.contrib.auth.decorators import login_not_required
from django.urls import URLPattern, URLResolver, path

from . import views


def _named(patterns: list[URLPattern | URLResolver]) -> list[URLPattern | URLResolver]:
    return [p for p in patterns if isinstance(p, URLResolver) or p.name]


urlpatterns = [
    path("login/", views.allowing_provider_forms(account_views.login), name="account_login"),
    path(
        "3rdparty/",
        views.allowing_provider_forms(socialaccount_views.connections),
        name="socialaccount_connections",
    ),
    path("email/", views.email_address, name="account_email"),
    path("signed-out/", views.signed_out, name="account_signed_out"),
    path(
        "3rdparty/login/error/",
        login_not_required(socialaccount_views.login_error),
        name="socialaccount_login_error",
    ),
    *_named(allauth_urls.urlpatterns),
]
