"""A program's settings page."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from sessions_app import roles
from sessions_app.programs import services
from sessions_app.programs.forms import ProgramForm


@require_http_methods(["GET", "POST"])
def program_edit(request, slug):
    program = roles.program_for_request(request, slug, "program.edit")
    form = ProgramForm(request.POST or None, instance=program)
    if request.method == "POST" and form.is_valid():
        # The ModelForm wrote the typed values onto the instance; start from the stored row,
        # so the service sees (and audits) what changed.
        program.refresh_from_db()
        services.program_update(program=program, actor=request.user, data=form.cleaned_data)
        messages.success(request, "Program settings saved.")
        return redirect(program)
    if request.method == "POST":
        program.refresh_from_db()
    return render(
        request, "sessions_app/programs/program_form.html", {"program": program, "form": form}
    )
