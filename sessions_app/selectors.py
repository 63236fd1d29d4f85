"""Reads for programs and the roster. Each owns its joins, so list pages cost a fixed
number of queries however many rows they show."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from .models import Clinician, FacilitatorAssignment, Group, GroupMembership, Program


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
    current = GroupMembership.objects.filter(left_on__isnull=True).select_related("group")
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


def group_list(*, program: Program) -> QuerySet[Group]:
    current_members = Count("memberships", filter=Q(memberships__left_on__isnull=True))
    facilitations = FacilitatorAssignment.objects.filter(ends_on__isnull=True).select_related(
        "facilitator"
    )
    return (
        Group.objects.filter(program=program)
        .annotate(member_count=current_members)
        .prefetch_related(
            Prefetch("facilitations", queryset=facilitations, to_attr="current_facilitations")
        )
    )


def my_group_labels(*, user: Any, program: Program | None = None) -> dict[int, list[str]]:
    """Program id -> the user's current groups there, as shown to them: "Group 1" for a
    membership, "Group 2 (lead facilitator)" for a facilitation. Two queries for any number
    of programs."""
    if not getattr(user, "is_authenticated", False):
        return {}
    memberships = GroupMembership.objects.filter(clinician__user=user, left_on__isnull=True)
    facilitations = FacilitatorAssignment.objects.filter(
        facilitator__user=user, ends_on__isnull=True
    )
    if program is not None:
        memberships = memberships.filter(group__program=program)
        facilitations = facilitations.filter(group__program=program)
    labels: dict[int, list[str]] = {}
    for program_id, name in memberships.order_by("group__name").values_list(
        "group__program_id", "group__name"
    ):
        labels.setdefault(program_id, []).append(name)
    for program_id, name, role in facilitations.order_by("group__name", "role").values_list(
        "group__program_id", "group__name", "role"
    ):
        how = FacilitatorAssignment.Role(role).label.lower()
        labels.setdefault(program_id, []).append(f"{name} ({how} facilitator)")
    return labels
