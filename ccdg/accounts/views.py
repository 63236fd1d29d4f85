"""Pages of the sign-in area that are the app's own."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .oidc.provider import end_session_url


@require_GET
def email_address(request: HttpRequest) -> HttpResponse:
    """One's e-mail address, read only: the coordinator keeps it with the roster entry."""
    address = getattr(request.user, "email", "")
    return render(request, "account/email_address.html", {"address": address})


@login_not_required
@require_GET
def signed_out(request: HttpRequest) -> HttpResponse:
    """After signing out of a session begun through the identity provider: the app's session
    has ended; the provider's own is offered, where it has a sign-out address (signing out
    there may end the person's other applications too, so it is their choice)."""
    provider_id = request.GET.get("provider", "")
    link = end_session_url(request, provider_id) if provider_id else None
    return render(request, "account/signed_out.html", {"provider_sign_out": link})


def provider_origins(request: HttpRequest) -> list[str]:
    """The origins of the configured identity providers' sign-in pages: the sign-in page's
    buttons post to the app, which redirects there, and a browser applies the page's CSP
    ``form-action`` to that redirect too."""
    from allauth.socialaccount.adapter import get_adapter

    found = []
    for app in get_adapter().list_apps(request):
        settings = app.settings or {}
        idp = settings.get("idp") or {}
        for url in (settings.get("server_url"), idp.get("sso_url"), idp.get("metadata_url")):
            if url:
                parts = urlsplit(url)
                found.append(f"{parts.scheme}://{parts.netloc}")
    return sorted(set(found))


def allowing_provider_forms(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """``view``, its page allowed to send forms on to the identity providers (CSP)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        origins = provider_origins(request)
        if origins:
            response._csp_update = {"form-action": origins}  # type: ignore[attr-defined]
        return response

    return wrapped
