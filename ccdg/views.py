from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from ccdg import phi
from ccdg.identifier_check import MAX_CHARS, explain


@login_not_required
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and monitoring: is the app up and its database reachable? No data."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any database failure means "not healthy"
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok"})


@login_not_required
def favicon(request: HttpRequest) -> HttpResponse:
    """The icon, for browsers and tools that ask for /favicon.ico without reading the page."""
    return redirect(static("icons/favicon-32.png"))


@require_POST
@never_cache
def identifiers_check(request: HttpRequest) -> HttpResponse:
    """The guard's findings in one field while the person types (an htmx request after a
    pause): the same marks and reasons the form shows when it refuses to save. The text is
    neither stored nor logged; ``field`` names the form field whose value is checked."""
    field = request.POST.get("field", "")
    text = request.POST.get(field, "") if field.isidentifier() else ""
    if len(text) > MAX_CHARS:
        return HttpResponse("Too long to check as you type.", status=413)
    findings = phi.scan(text) if text.strip() else []
    typed = bool(text.strip())
    context = {"check": explain(text, findings, ref_prefix=f"live-{field}"), "typed": typed}
    return render(request, "ccdg/_identifier_check.html", context)


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)
