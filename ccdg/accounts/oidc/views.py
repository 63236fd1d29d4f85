"""The sign-in and callback pages of the site's OpenID Connect provider (allauth's views with
the verifying adapter)."""

from __future__ import annotations

from allauth.account.internal.decorators import login_not_required
from allauth.socialaccount.helpers import render_authentication_error
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from django.http import Http404, HttpRequest, HttpResponse
from requests import RequestException

from .provider import VerifyingAdapter


@login_not_required
def login(request: HttpRequest, provider_id: str) -> HttpResponse:
    adapter = VerifyingAdapter(request, provider_id)
    try:
        return OAuth2LoginView.adapter_view(adapter)(request)
    except SocialApp.DoesNotExist:
        raise Http404("No such sign-in provider.") from None
    except RequestException as exc:
        # The provider's discovery document could not be read: it is down or unreachable.
        return render_authentication_error(request, adapter.get_provider(), exception=exc)


@login_not_required
def callback(request: HttpRequest, provider_id: str) -> HttpResponse:
    adapter = VerifyingAdapter(request, provider_id)
    try:
        return OAuth2CallbackView.adapter_view(adapter)(request)
    except SocialApp.DoesNotExist:
        raise Http404("No such sign-in provider.") from None
    except RequestException as exc:
        # The provider went down between sending the person back and the code's exchange.
        return render_authentication_error(request, adapter.get_provider(), exception=exc)
