"""The signed-in home page and a program's overview."""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone

from sessions_app import roles
from sessions_app.groups import selectors as groups_selectors
from sessions_app.home import dashboard
from sessions_app.roster import selectors as roster_selectors


def program_detail(request, slug):
    program = roles.program_for_request(request, slug, "program.view")
    my_roles = roles.roles_in(request.user, program)
    context = {
        "program": program,
        "my_roles": sorted(roles.ROLE_LABELS[r] for r in my_roles),
        "groups": groups_selectors.group_list(program=program),
        "my_groups": roles.my_group_labels(user=request.user, program=program).get(program.pk, []),
        "on_roster_only": my_roles == {roles.ROSTERED},
    }
    if roles.can(request.user, "roster.view", program):
        context["counts"] = roster_selectors.roster_counts(program=program)
    return render(request, "sessions_app/home/program_detail.html", context)


def _focus(request, programs: list) -> object | None:
    """The program the home page is about: ``?program=<slug>``, else the first one where the
    person coordinates, else the first one."""
    wanted = request.GET.get("program")
    if wanted:
        return next((p for p in programs if p.slug == wanted), None)
    mine = roles.role_map(request.user)
    coordinated = [p for p in programs if roles.COORDINATOR in mine.get(p.pk, ())]
    return (coordinated or programs or [None])[0]


def home(request):
    programs = roles.programs_for(request.user)
    groups = roles.my_group_labels(user=request.user)  # two more queries
    for program in programs:
        program.my_groups = groups.get(program.pk, [])
    context = {"programs": programs}
    focus = _focus(request, programs)
    if focus is not None:
        context["focus"] = focus
        now = timezone.now()
        held = roles.roles_in(request.user, focus)
        if roles.can(request.user, "program.edit", focus):
            context["coordinator"] = dashboard.coordinator_panel(focus, now=now)
        if roles.FACILITATOR in held:
            context["facilitator"] = dashboard.facilitator_panel(request.user, focus, now=now)
        if roles.PARTICIPANT in held:
            context["participant"] = dashboard.participant_panel(request.user, focus, now=now)
        if roles.can(request.user, "reports.view", focus):
            context["reports"] = True
    return render(request, "sessions_app/home/home.html", context)
