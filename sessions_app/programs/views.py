"""A program's settings page, and its team: who coordinates it and who reads its reports."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from sessions_app import roles
from sessions_app.programs import services
from sessions_app.programs.forms import ProgramCreateForm, ProgramForm, RoleGrantForm
from sessions_app.programs.models import ProgramRole


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


@require_http_methods(["GET", "POST"])
def program_team(request, slug):
    program = roles.program_for_request(request, slug, "program.edit")
    anyone = roles.is_staff(request.user)
    form = RoleGrantForm(request.POST or None, program=program, anyone=anyone)
    if request.method == "POST" and form.is_valid():
        person, role = form.cleaned_data["person"], form.cleaned_data["role"]
        try:
            services.role_grant(program=program, user=person, role=role, actor=request.user)
        except ValidationError as exc:
            form.add_error("person", exc)
        else:
            label = dict(ProgramRole.Role.choices)[role].lower()
            messages.success(
                request, f"{person.get_full_name() or person.username} is now {label}."
            )
            return redirect("sessions_app:program_team", slug=program.slug)
    held = (
        ProgramRole.objects.filter(program=program)
        .select_related("user")
        .order_by("role", "user__last_name", "user__first_name", "user__username")
    )
    return render(
        request,
        "sessions_app/programs/team.html",
        {"program": program, "form": form, "held": held},
    )


@require_POST
def role_revoke(request, slug, pk):
    program = roles.program_for_request(request, slug, "program.edit")
    held = get_object_or_404(ProgramRole.objects.select_related("user"), program=program, pk=pk)
    try:
        services.role_revoke(held=held, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        who = held.user.get_full_name() or held.user.username
        messages.success(request, f"{who} is no longer {held.get_role_display().lower()}.")
    return redirect("sessions_app:program_team", slug=program.slug)


@require_http_methods(["GET", "POST"])
def program_create(request):
    """A new program, by site staff (no Django admin needed)."""
    if not roles.is_staff(request.user):
        raise PermissionDenied
    form = ProgramCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "coordinator"}
        program = services.program_create(
            data=data, actor=request.user, coordinator=form.cleaned_data["coordinator"]
        )
        messages.success(request, f"Program “{program.name}” created.")
        return redirect(program)
    return render(request, "sessions_app/programs/program_create.html", {"form": form})
