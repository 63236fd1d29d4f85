"""The sign-in and callback pages of the site's OpenID Connect provider (allauth's views with
the verifying adapter)."""

from __future__ import annotations

from typing import Any

from allauth.account.internal.decorators import login_not_required
from allauth.socialaccount.helpers import render_authentication_error
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from django.http import Http404, HttpRequest, HttpResponse
from requests import RequestException

from .provider import VerifyingAdapter


def _run(view_class: Any, request: HttpRequest, provider_id: str) -> HttpResponse:
    """allauth's view with the verifying adapter: an unknown provider is not found; one that
    cannot be reached (its discovery document at the start, or the code's exchange after the
    person came back) is a page and an audit entry, not a server error."""
    adapter = VerifyingAdapter(request, provider_id)
    try:
        return view_class.adapter_view(adapter)(request)
    except SocialApp.DoesNotExist:
        raise Http404("No such sign-in provider.") from None
    except RequestException as exc:
        return render_authentication_error(request, adapter.get_provider(), exception=exc)


@login_not_required
def login(request: HttpRequest, provider_id: str) -> HttpResponse:
    return _run(OAuth2LoginView, request, provider_id)


@login_not_required
def callback(request: HttpRequest, provider_id: str) -> HttpResponse:
    return _run(OAuth2CallbackView, request, provider_id)
