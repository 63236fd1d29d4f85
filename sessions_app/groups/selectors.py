"""Reading groups: their current members, the facilitator pool and facilitator coverage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, QuerySet

from sessions_app.groups.models import (
    Facilitator,
    FacilitatorAssignment,
    Group,
    GroupMembership,
    current_membership_q,
)
from sessions_app.programs.models import Program
from sessions_app.roster.models import Clinician


def group_list(*, program: Program) -> QuerySet[Group]:
    current_members = Count("memberships", filter=current_membership_q("memberships__"))
    facilitations = FacilitatorAssignment.objects.current().select_related("facilitator")
    return (
        Group.objects.filter(program=program)
        .annotate(member_count=current_members)
        .prefetch_related(
            Prefetch("facilitations", queryset=facilitations, to_attr="current_facilitations")
        )
    )


# --- Reads -------------------------------------------------------------------------------


def group_members(*, group: Group) -> list[Clinician]:
    return list(
        Clinician.objects.filter(
            current_membership_q("memberships__"), memberships__group=group
        ).order_by("last_name", "first_name")
    )


def groups_with_members(*, program: Program) -> QuerySet[Group]:
    current = GroupMembership.objects.current().select_related("clinician")
    facilitations = FacilitatorAssignment.objects.current().select_related("facilitator")
    return (
        Group.objects.filter(program=program)
        .select_related("default_room")
        .prefetch_related(
            Prefetch("memberships", queryset=current, to_attr="current_memberships"),
            Prefetch("facilitations", queryset=facilitations, to_attr="current_facilitations"),
        )
    )


def facilitator_pool(*, program: Program) -> QuerySet[Facilitator]:
    return Facilitator.objects.filter(program=program).select_related("user", "clinician")


@dataclass
class Coverage:
    groups: list[dict[str, Any]]  # group, lead, backups, gaps
    backups_available: int
    unassigned: list[Facilitator]


def facilitator_coverage(*, program: Program) -> Coverage:
    """Per group: its lead, its backups and what is missing; and how many facilitators could
    step in (assigned backups plus available facilitators with no group)."""
    groups = list(groups_with_members(program=program))
    pool = [f for f in facilitator_pool(program=program) if f.active]
    busy: set[int] = set()
    rows: list[dict[str, Any]] = []
    for group in groups:
        lead = [f.facilitator for f in group.current_facilitations if f.role == "lead"]
        backups = [f.facilitator for f in group.current_facilitations if f.role == "backup"]
        busy.update(f.pk for f in lead + backups)
        gaps = []
        if not lead:
            gaps.append("no lead facilitator")
        if not backups:
            gaps.append("no backup")
        rows.append(
            {"group": group, "lead": lead[0] if lead else None, "backups": backups, "gaps": gaps}
        )
    unassigned = [f for f in pool if f.pk not in busy]
    backups_available = len({b.pk for row in rows for b in row["backups"]}) + len(unassigned)
    return Coverage(groups=rows, backups_available=backups_available, unassigned=unassigned)
