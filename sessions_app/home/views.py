"""The signed-in home page and a program's overview."""

from __future__ import annotations

from django.shortcuts import render

from sessions_app import roles
from sessions_app.groups import selectors as groups_selectors
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


def home(request):
    programs = roles.programs_for(request.user)
    groups = roles.my_group_labels(user=request.user)  # two more queries
    for program in programs:
        program.my_groups = groups.get(program.pk, [])
    return render(request, "sessions_app/home/home.html", {"programs": programs})
