"""The coordinator's outbox page, and the public one-click unsubscribe page."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from ccdg import roles
from ccdg.models import OutboxMessage, ReminderSettings

from . import services
from .rendering import render_message

PERM = "program.edit"  # the program's coordinators (and staff)


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
    context = {
        "program": program,
        "tab": tab,
        "counts": services.outbox_counts(program=program),
        "rows": services.outbox_list(program=program, tab=tab),
        "settings_row": settings_row,
        "form": form,
    }
    return render(request, "ccdg/outbox/outbox.html", context)


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
        "ccdg/outbox/preview.html",
        {"program": program, "row": row, "rendered": rendered, "error": error},
    )


@require_POST
def outbox_resend(request, slug, pk):
    program = roles.program_for_request(request, slug, PERM)
    row = _message(program, pk)
    if services.outbox_resend(message=row, actor=request.user):
        messages.success(request, "The message is queued again.")
    else:
        messages.info(request, "Only a failed or stuck message can be resent.")
    return redirect(reverse("outbox:outbox", kwargs={"slug": program.slug}) + "?tab=failed")


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


@csrf_exempt  # the token is the secret; mail programs POST without a CSRF cookie
@login_not_required
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """GET shows a button (link scanners must not unsubscribe anyone); POST, also the RFC 8058
    one-click POST from a mail program, records the opt-out. An unknown token is a plain 404."""
    found = services.unsubscribe_resolve(token=token)
    if found is None:
        raise Http404("No such page.")
    done = False
    if request.method == "POST":
        services.optout_create(unsubscribe=found)
        done = True
    return render(
        request, "ccdg/outbox/unsubscribe.html", {"program_name": found.program.name, "done": done}
    )
