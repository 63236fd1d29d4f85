"""Groups, their assignment and their facilitators."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from ccdg.messages import messages_from
from sessions_app import roles
from sessions_app.groups import selectors, services
from sessions_app.groups.forms import (
    AssignmentForm,
    CommitForm,
    ConstraintForm,
    FacilitationForm,
    FacilitatorForm,
    GroupForm,
    MoveForm,
)
from sessions_app.groups.models import (
    AssignmentConstraint,
    AssignmentRun,
    Facilitator,
    FacilitatorAssignment,
)
from sessions_app.groups.solver.assignment import Infeasible


def group_list(request, slug):
    program = roles.program_for_request(request, slug, "groups.view")
    manage = roles.can(request.user, "groups.manage", program)
    groups = list(selectors.groups_with_members(program=program))
    # Participants and facilitators see the membership of their own groups only.
    visible = (
        {g.pk for g in groups}
        if manage
        else roles.groups_with_visible_members(request.user, program)
    )
    for group in groups:
        group.members_visible = group.pk in visible
    return render(
        request,
        "sessions_app/groups/group_list.html",
        {"program": program, "groups": groups, "may_manage": manage},
    )


def group_detail(request, slug, pk):
    program = roles.program_for_request(request, slug, "groups.view")
    group = roles.group_for_request(request, program, pk, may=roles.can_view_group_members)
    manage = roles.can(request.user, "groups.manage", program)
    context = {
        "program": program,
        "group": group,
        "members": selectors.group_members(group=group),
        "facilitations": group.facilitations.current().select_related("facilitator"),
        "may_manage": manage,
        "facilitation_form": FacilitationForm(program=program) if manage else None,
        "sessions": group.sessions.filter(starts_at__gte=timezone.now())
        .select_related("room")
        .order_by("starts_at")[:12],
    }
    # Dates and times in the program's time zone.
    with timezone.override(program.tz):
        return render(request, "sessions_app/groups/group_detail.html", context)


@require_http_methods(["GET", "POST"])
def group_edit(request, slug, pk):
    program = roles.program_for_request(request, slug, "groups.manage")
    group = roles.group_for_request(request, program, pk)
    form = GroupForm(request.POST or None, instance=group)
    if request.method == "POST" and form.is_valid():
        group.refresh_from_db()  # the form wrote the typed values onto the instance
        services.group_update(group=group, actor=request.user, data=form.cleaned_data)
        messages.success(request, f"{group.name} saved.")
        return redirect("sessions_app:group_detail", slug=slug, pk=group.pk)
    return render(
        request,
        "sessions_app/groups/group_form.html",
        {"program": program, "group": group, "form": form},
    )


@require_POST
def group_facilitation_add(request, slug, pk):
    program = roles.program_for_request(request, slug, "facilitators.manage")
    group = roles.group_for_request(request, program, pk)
    form = FacilitationForm(request.POST, program=program)
    if form.is_valid():
        try:
            services.facilitation_assign(
                group=group,
                facilitator=form.cleaned_data["facilitator"],
                role=form.cleaned_data["role"],
                actor=request.user,
            )
        except ValidationError as exc:
            messages_from(request, exc, joined=True)
        else:
            messages.success(request, "Facilitator assigned.")
    else:
        messages.error(request, "Choose a facilitator and a role.")
    return redirect("sessions_app:group_detail", slug=slug, pk=pk)


@require_POST
def facilitation_end(request, slug, pk):
    program = roles.program_for_request(request, slug, "facilitators.manage")
    assignment = get_object_or_404(
        FacilitatorAssignment.objects.select_related("group"), group__program=program, pk=pk
    )
    services.facilitation_end(assignment=assignment, actor=request.user)
    messages.success(request, "Facilitator removed from the group.")
    return redirect("sessions_app:group_detail", slug=slug, pk=assignment.group_id)


# --- Assignment -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def assignment_start(request, slug):
    program = roles.program_for_request(request, slug, "groups.manage")
    form = AssignmentForm(request.POST or None)
    problems = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        result = services.assignment_preview(
            program=program,
            actor=request.user,
            request=services.AssignmentRequest(
                groups=d["groups"],
                target_size=d["target_size"],
                min_size=d["min_size"],
                max_size=d["max_size"],
                seed=d["seed"],
                mode=d["mode"],
                keep_current=d["regroup"] == AssignmentForm.KEEP,
            ),
        )
        if isinstance(result, Infeasible):
            problems = result.problems
        else:
            return redirect("sessions_app:assignment_run", slug=slug, pk=result.pk)
    context = {
        "program": program,
        "form": form,
        "problems": problems,
        "pool_size": len(services.assignment_pool(program=program)),
        "runs": AssignmentRun.objects.filter(program=program).select_related(
            "created_by", "committed_by"
        )[:20],
        "rules": AssignmentConstraint.objects.filter(program=program).count(),
    }
    return render(request, "sessions_app/groups/assignment_start.html", context)


def _run_page(request, program, run, move_form=None, status=200):
    view = services.assignment_run_view(run=run)
    people = [c for g in view.groups for c in g["members"]]
    context = {
        "program": program,
        "run": run,
        "view": view,
        "move_form": move_form or MoveForm(people=people, groups=view.groups),
    }
    template = (
        "sessions_app/groups/_assignment_groups.html"
        if request.htmx
        else "sessions_app/groups/assignment_run.html"
    )
    return render(request, template, context, status=status)


def assignment_run(request, slug, pk):
    program = roles.program_for_request(request, slug, "groups.manage")
    return _run_page(request, program, roles.assignment_run_for_request(request, program, pk))


@require_POST
def assignment_move(request, slug, pk):
    program = roles.program_for_request(request, slug, "groups.manage")
    run = roles.assignment_run_for_request(request, program, pk)
    view = services.assignment_run_view(run=run)
    people = [c for g in view.groups for c in g["members"]]
    form = MoveForm(request.POST, people=people, groups=view.groups)
    if not form.is_valid():
        return _run_page(request, program, run, move_form=form, status=400)
    try:
        run = services.assignment_move(
            run=run,
            actor=request.user,
            clinician_id=form.cleaned_data["clinician"],
            to_key=form.cleaned_data["to"],
        )
    except ValidationError as exc:
        messages_from(request, exc, joined=True)
    if request.htmx:
        return _run_page(request, program, run)
    return redirect("sessions_app:assignment_run", slug=slug, pk=pk)


@require_POST
def assignment_commit(request, slug, pk):
    program = roles.program_for_request(request, slug, "groups.manage")
    run = roles.assignment_run_for_request(request, program, pk)
    form = CommitForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not committed: " + " ".join(form.errors["moved"]))
        return redirect("sessions_app:assignment_run", slug=slug, pk=pk)
    try:
        summary = services.assignment_commit(
            run=run, actor=request.user, confirmed_moves=form.confirmed_moves()
        )
    except ValidationError as exc:
        messages_from(request, exc)
        return redirect("sessions_app:assignment_run", slug=slug, pk=pk)
    messages.success(
        request,
        f"Groups committed: {summary['joined']} joined, {summary['moved']} moved"
        + (f", {summary['groups_created']} new groups" if summary["groups_created"] else "")
        + ".",
    )
    return redirect("sessions_app:group_list", slug=slug)


@require_POST
def assignment_discard(request, slug, pk):
    program = roles.program_for_request(request, slug, "groups.manage")
    services.assignment_discard(
        run=roles.assignment_run_for_request(request, program, pk), actor=request.user
    )
    messages.info(request, "Preview discarded.")
    return redirect("sessions_app:assignment_start", slug=slug)


@require_http_methods(["GET", "POST"])
def constraint_list(request, slug):
    program = roles.program_for_request(request, slug, "groups.manage")
    form = ConstraintForm(request.POST or None, program=program)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.constraint_add(
                program=program,
                actor=request.user,
                kind=d["kind"],
                clinician=d["clinician"],
                other=d["other"],
                group=d["group"],
                note=d["note"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Rule added.")
            return redirect("sessions_app:constraint_list", slug=slug)
    rules = AssignmentConstraint.objects.filter(program=program).select_related(
        "clinician", "other", "group"
    )
    return render(
        request,
        "sessions_app/groups/constraint_list.html",
        {"program": program, "form": form, "rules": rules},
    )


@require_POST
def constraint_delete(request, slug, pk):
    program = roles.program_for_request(request, slug, "groups.manage")
    rule = get_object_or_404(AssignmentConstraint, program=program, pk=pk)
    services.constraint_remove(rule=rule, actor=request.user)
    messages.success(request, "Rule removed.")
    return redirect("sessions_app:constraint_list", slug=slug)


# --- Facilitator pool ---------------------------------------------------------------------------


def facilitator_list(request, slug):
    program = roles.program_for_request(request, slug, "facilitators.manage")
    return render(
        request,
        "sessions_app/groups/facilitator_list.html",
        {
            "program": program,
            "pool": selectors.facilitator_pool(program=program),
            "coverage": selectors.facilitator_coverage(program=program),
        },
    )


@require_http_methods(["GET", "POST"])
def facilitator_edit(request, slug, pk=None):
    program = roles.program_for_request(request, slug, "facilitators.manage")
    facilitator = get_object_or_404(Facilitator, program=program, pk=pk) if pk else None
    form = FacilitatorForm(request.POST or None, instance=facilitator, program=program)
    if request.method == "POST" and form.is_valid():
        if facilitator is not None:
            facilitator.refresh_from_db()
        services.facilitator_save(
            program=program, actor=request.user, data=form.cleaned_data, facilitator=facilitator
        )
        messages.success(request, "Facilitator saved.")
        return redirect("sessions_app:facilitator_list", slug=slug)
    return render(
        request,
        "sessions_app/groups/facilitator_form.html",
        {"program": program, "form": form, "facilitator": facilitator},
    )
