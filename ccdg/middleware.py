"""Middleware of the whole site."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.cache import patch_cache_control


class PrivateNoStoreMiddleware:
    """Every response the app makes is sent with ``Cache-Control: private, no-store``.

    Almost every page holds personal data: rosters, groups, attendance, survey answers, exports,
    and the pages opened by a token without a session (survey links, invitations, unsubscribe,
    calendar feeds). Deciding page by page is how some were missed, so the rule is the other way
    round: nothing the app renders may be kept by a shared proxy or written to the browser's
    disk cache. Public pages (sign-in, password reset, health check) lose nothing by it.

    A view that already forbids storing keeps its header (``never_cache`` adds ``no-cache``,
    ``must-revalidate`` and ``max-age=0``), made private if it was not; any other header, such as
    a chart's ``max-age``, is replaced. Static files never reach this middleware: WhiteNoise,
    listed before it, answers them with its own long-lived cache headers.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        header = response.get("Cache-Control", "")
        found = {part.split("=")[0].strip().lower() for part in header.split(",")}
        if "no-store" in found:
            patch_cache_control(response, private=True)
        else:
            response["Cache-Control"] = "private, no-store"
        return response
