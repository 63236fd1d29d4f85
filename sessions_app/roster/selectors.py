"""Reads for programs and the roster. Each owns its joins, so list pages cost a fixed
number of queries however many rows they show."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from sessions_app.groups.models import GroupMembership
from sessions_app.programs.models import Program
from sessions_app.roster.models import Clinician


def clinician_list(
    *, program: Program, query: str = "", discipline: str = "", status: str = ""
) -> QuerySet[Clinician]:
    qs = Clinician.objects.filter(program=program)
    if query:
        for word in query.split():
            qs = qs.filter(
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(email__icontains=word)
            )
    if discipline:
        qs = qs.filter(discipline=discipline)
    if status:
        qs = qs.filter(status=status)
    current = GroupMembership.objects.current().select_related("group")
    # The program too: each row links to its page, whose address names the program.
    return qs.select_related("user", "program").prefetch_related(
        Prefetch("memberships", queryset=current, to_attr="current_memberships")
    )


def roster_counts(*, program: Program) -> dict[str, int]:
    rows = Clinician.objects.filter(program=program).values("status").annotate(n=Count("id"))
    counts = {status: 0 for status in Clinician.Status.values}
    counts.update({row["status"]: row["n"] for row in rows})
    counts["total"] = sum(counts[s] for s in Clinician.Status.values)
    return counts
