"""Pages of the sign-in area that are the app's own."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def email_address(request: HttpRequest) -> HttpResponse:
    """One's e-mail address, read only: the coordinator keeps it with the roster entry."""
    address = getattr(request.user, "email", "")
    return render(request, "account/email_address.html", {"address": address})
