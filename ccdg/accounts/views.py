"""Pages of the sign-in area that are the app's own."""

from __future__ import annotations

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
