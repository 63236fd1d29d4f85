"""The coordinator's outbox page, and the public one-click unsubscribe pages."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from ccdg.models import OutboxMessage, ReminderSettings
from ccdg.outbox import services
from ccdg.outbox.rendering import render_message
from ccdg.token_links import TokenCookie, already_logged, token_exchange
from sessions_app import roles
from sessions_app.reminders.forecast import FORECAST_DAYS, outbox_forecast

PERM = "program.edit"  # the program's coordinators (and staff)
#: Planned messages shown with their recipients and preview; the rest by count until asked.
PLANNED_DETAILED = 6
#: Planned messages listed (a program of dozens of groups plans hundreds a month); all on ask.
PLANNED_LISTED = 50


class TimingsForm(forms.ModelForm):
    class Meta:
        model = ReminderSettings
        fields = [
            "launch_days",
            "second_launch_days",
            "session_days",
            "presenter_days",
            "no_presenter_days",
        ]


@require_http_methods(["GET", "POST"])
def outbox(request, slug):
    program = roles.program_for_request(request, slug, PERM)
    tab = request.GET.get("tab", "upcoming")
    if tab not in services.TABS:
        tab = "upcoming"
    settings_row = services.reminder_settings_get(program=program)
    form = TimingsForm(request.POST or None, instance=settings_row)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Reminder timings saved.")
        return redirect("outbox:outbox", slug=program.slug)
    # What the scan will queue in the next days: counted on every tab, shown on Upcoming.
    show_all = request.GET.get("all") == "1"
    planned = outbox_forecast(
        program=program,
        previews=tab == "upcoming",
        detailed=None if show_all else PLANNED_DETAILED,
    )
    counts = services.outbox_counts(program=program)
    page = Paginator(services.outbox_list(program=program, tab=tab), services.PAGE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    counts["upcoming"] += sum(p.recipient_count for p in planned)
    context = {
        "program": program,
        "tab": tab,
        "counts": counts,
        "rows": page.object_list,
        "page": page,
        "query_string": query.urlencode(),
        "planned": planned,
        "planned_listed": planned if show_all else planned[:PLANNED_LISTED],
        "forecast_days": FORECAST_DAYS,
        "detailed": len(planned) if show_all else min(len(planned), PLANNED_DETAILED),
        "settings_row": settings_row,
        "form": form,
    }
    return render(request, "sessions_app/reminders/outbox.html", context)


def _message(program, pk) -> OutboxMessage:
    return get_object_or_404(OutboxMessage, program=program, pk=pk)


def outbox_preview(request, slug, pk):
    program = roles.program_for_request(request, slug, PERM)
    row = _message(program, pk)
    error = ""
    rendered = None
    try:
        rendered = render_message(row)
    except Exception as exc:  # show the coordinator why it cannot be sent
        error = f"This message cannot be rendered: {type(exc).__name__}."
    return render(
        request,
        "sessions_app/reminders/preview.html",
        {"program": program, "row": row, "rendered": rendered, "error": error},
    )


@require_POST
def outbox_resend(request, slug, pk):
    """Send a row again. One that may have been delivered needs ``confirm=1``: without it the
    coordinator gets a page that says so and asks, and nothing is sent."""
    program = roles.program_for_request(request, slug, PERM)
    row = _message(program, pk)
    outcome = services.outbox_resend(
        message=row, actor=request.user, confirmed=request.POST.get("confirm") == "1"
    )
    if outcome == "confirm":
        return render(
            request, "sessions_app/reminders/resend_confirm.html", {"program": program, "row": row}
        )
    if outcome == "queued":
        messages.success(request, "The message is queued again.")
    else:
        messages.info(request, "Only a failed or sent message can be sent again.")
    tab = "failed" if row.status == OutboxMessage.Status.FAILED else "upcoming"
    return redirect(reverse("outbox:outbox", kwargs={"slug": program.slug}) + f"?tab={tab}")


@require_POST
def outbox_pause(request, slug):
    program = roles.program_for_request(request, slug, PERM)
    services.outbox_pause(program=program, paused=True, actor=request.user)
    messages.success(request, "Sending is paused: due messages wait in the outbox.")
    return redirect("outbox:outbox", slug=program.slug)


@require_POST
def outbox_resume(request, slug):
    program = roles.program_for_request(request, slug, PERM)
    services.outbox_pause(program=program, paused=False, actor=request.user)
    messages.success(request, "Sending resumed.")
    return redirect("outbox:outbox", slug=program.slug)


def _unsubscribe_cookie(slug: str) -> TokenCookie:
    """The token of an opened unsubscribe link, for the program's unsubscribe page only."""
    return TokenCookie(
        name=f"ccdg_unsubscribe.{slug}",
        path=reverse("outbox:unsubscribe_confirm", kwargs={"slug": slug}),
        salt="ccdg.outbox-unsubscribe",
        max_age=3600,
    )


def _unsubscribe_page(request, found, *, done: bool):
    return render(
        request,
        "sessions_app/reminders/unsubscribe.html",
        {"program_name": found.program.name, "done": done},
    )


def _not_found(request):
    """An unknown token, or the page without a valid cookie: the site's plain 404, kept out
    of Django's "Not Found: <path>" log line (the path may hold the token)."""
    return already_logged(render(request, "404.html", status=404))


@csrf_exempt  # the token is the secret; mail programs POST without a CSRF cookie
@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """The e-mailed link. A GET (a person, or a link scanner) trades the token for a cookie and
    redirects to the program's unsubscribe page, which shows a button: scanners unsubscribe
    nobody, and the token leaves the address bar and later log lines. A POST is the RFC 8058
    one-click request of a mail program (no cookies, no redirects followed): it records the
    opt-out at once. An unknown token is a plain 404."""
    found = services.unsubscribe_resolve(token=token)
    if found is None:
        return _not_found(request)
    if request.method == "POST":
        services.optout_create(unsubscribe=found)
        return _unsubscribe_page(request, found, done=True)
    return token_exchange(request, token, _unsubscribe_cookie(found.program.slug))


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe_confirm(request, slug):
    """The button, then the opt-out, for the link whose token the cookie holds."""
    cookie = _unsubscribe_cookie(slug)
    token = cookie.read(request)
    found = services.unsubscribe_resolve(token=token) if token else None
    if found is None or found.program.slug != slug:
        return _not_found(request)
    if request.method == "POST":
        services.optout_create(unsubscribe=found)
        return cookie.forget(_unsubscribe_page(request, found, done=True))
    return cookie.write(_unsubscribe_page(request, found, done=False), request, token)
