"""What the home page shows each role, read in a fixed number of queries.

* the coordinator: what needs attention over the next four weeks (``ccdg.attention``), the
  next sessions, and the program's health over the year (attendance against the members and
  against the eligible clinicians per meeting day, presentations per participant, backup
  coverage);
* the facilitator: their next session (agenda, presenters, answers, the live view) and their
  groups' attendance;
* the participant: their next session (answer, volunteer) and their credit.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Q

from ccdg.attention import Item, attention_for
from sessions_app.agenda.models import SessionSegment
from sessions_app.groups.models import FacilitatorAssignment
from sessions_app.presenters.models import Presentation, Rsvp
from sessions_app.presenters.selectors import (
    MySession,
    attendance_figures,
    my_credit,
    my_sessions_list,
    program_participant,
)
from sessions_app.programs.models import Program
from sessions_app.schedule.models import Session
from sessions_app.schedule.selectors import (
    FacilitatedSession,
    coverage_upcoming,
    facilitated_sessions_list,
)

NEXT_SESSIONS = 6


@dataclass
class DayFigure:
    """One meeting day of the year so far: members present, members, eligible clinicians."""

    day: date
    present: int
    members: int
    eligible: int

    @property
    def of_members(self) -> int | None:
        return round(100 * self.present / self.members) if self.members else None

    @property
    def of_eligible(self) -> int | None:
        return round(100 * self.present / self.eligible) if self.eligible else None


@dataclass
class Health:
    days: list[DayFigure]
    eligible: int
    regular_sentence: str
    presentations: int
    participants: int
    upcoming_sessions: int
    covered_sessions: int  # with a backup available besides whoever leads
    backups_available: int
    as_of: datetime | None = None

    @property
    def presentations_per_participant(self) -> float | None:
        return round(self.presentations / self.participants, 2) if self.participants else None

    @property
    def backup_coverage(self) -> int | None:
        if not self.upcoming_sessions:
            return None
        return round(100 * self.covered_sessions / self.upcoming_sessions)

    @property
    def chart(self) -> dict[str, Any]:
        """Bar positions for the attendance chart (an SVG drawn by the template: no script,
        no inline style): bars for the share of members present, dots for the share of the
        eligible clinicians."""
        width, height, gap = 640, 160, 4
        n = max(len(self.days), 1)
        bar = max((width - gap * (n - 1)) / n, 2)
        bars = []
        for i, d in enumerate(self.days):
            x = i * (bar + gap)
            members = d.of_members or 0
            eligible = d.of_eligible or 0
            bars.append({
                "x": round(x, 1), "width": round(bar, 1),
                "y": round(height - height * members / 100, 1),
                "height": round(height * members / 100, 1),
                "dot_x": round(x + bar / 2, 1),
                "dot_y": round(height - height * eligible / 100, 1),
                "day": d,
            })  # fmt: skip
        return {"width": width, "height": height, "bars": bars}


@dataclass
class CoordinatorPanel:
    program: Program
    attention: list[Item]
    next_sessions: list[Session]
    health: Health
    counts: dict[str, int] = field(default_factory=dict)


def _next_sessions(program: Program, now: datetime) -> list[Session]:
    rows = (
        Session.objects.filter(group__program=program, starts_at__gte=now)
        .select_related("group", "room")
        .annotate(
            presenters=Count(
                "presentations",
                filter=Q(presentations__status=Presentation.Status.CONFIRMED),
                distinct=True,
            ),
            going=Count("rsvps", filter=Q(rsvps__answer=Rsvp.Answer.GOING), distinct=True),
        )
        .order_by("starts_at", "group__name")[:NEXT_SESSIONS]
    )
    sessions = list(rows)
    for s in sessions:
        s.local_start = program.local(s.starts_at)
    return sessions


def health(program: Program, now: datetime) -> Health:
    figures = attendance_figures(program=program, now=now)
    by_day: dict[date, list[Any]] = defaultdict(list)
    for s in figures.sessions:
        if s.recorded:
            by_day[program.local_day(s.starts_at)].append(s)
    days = [
        DayFigure(
            day=day,
            present=sum(s.present for s in found),
            members=sum(s.members for s in found),
            eligible=figures.eligible,
        )
        for day, found in sorted(by_day.items())
    ]
    presentations = Presentation.objects.filter(
        session__group__program=program,
        session__status=Session.Status.SCHEDULED,
        session__starts_at__lte=now,
        status=Presentation.Status.CONFIRMED,
    ).count()
    coverage = coverage_upcoming(program=program)
    covered = sum(1 for s in coverage.sessions if s.cover.acting_lead and s.cover.available_backups)
    return Health(
        days=days,
        eligible=figures.eligible,
        regular_sentence=figures.regular_sentence,
        presentations=presentations,
        participants=sum(g.members for g in figures.groups),
        upcoming_sessions=len(coverage.sessions),
        covered_sessions=covered,
        backups_available=coverage.backups_available,
    )


#: The program's health figures are worked out from the whole year (every session, member and
#: backup) and kept this long: the home of a program of dozens of groups would otherwise
#: recompute them on every view. What needs attention and the next sessions are always live.
HEALTH_SECONDS = 120


def cached_health(program: Program, now: datetime) -> Health:
    key = f"home:health:{program.pk}:{program.academic_year}"
    found = cache.get(key)
    if not isinstance(found, Health):
        found = replace(health(program, now), as_of=now)
        cache.set(key, found, HEALTH_SECONDS)
    return found


def coordinator_panel(program: Program, *, now: datetime) -> CoordinatorPanel:
    return CoordinatorPanel(
        program=program,
        attention=attention_for(program, now=now),
        next_sessions=_next_sessions(program, now),
        health=cached_health(program, now),
    )


@dataclass
class FacilitatorPanel:
    """The facilitator's next session (None: nothing scheduled) with its agenda, presenters
    and answers, and their groups' attendance this year."""

    program: Program
    next: FacilitatedSession | None
    segments: list[SessionSegment]
    presenters: list[Presentation]
    going: int
    not_going: int
    groups: list[Any]  # GroupFigure of each group they facilitate


def facilitator_panel(user: Any, program: Program, *, now: datetime) -> FacilitatorPanel | None:
    """None when ``user`` facilitates no group of ``program``."""
    group_ids = set(
        FacilitatorAssignment.objects.current()
        .filter(group__program=program, facilitator__user=user)
        .values_list("group_id", flat=True)
    )
    if not group_ids:
        return None
    # Today's first few are enough to find the next one that has not ended.
    mine = facilitated_sessions_list(user=user, program=program, now=now, scheduled_first=8)
    upcoming = [
        f
        for f in mine
        if f.session.status == Session.Status.SCHEDULED and f.session.planned_end >= now
    ]
    nxt = upcoming[0] if upcoming else None
    segments: list[SessionSegment] = []
    presenters: list[Presentation] = []
    answers: dict[str, int] = {}
    if nxt is not None:
        segments = list(SessionSegment.objects.filter(session=nxt.session))
        presenters = list(
            Presentation.objects.filter(
                session=nxt.session, status=Presentation.Status.CONFIRMED
            ).select_related("clinician")
        )
        answers = dict(
            Rsvp.objects.filter(session=nxt.session)
            .values("answer")
            .annotate(n=Count("id"))
            .values_list("answer", "n")
        )
    groups = attendance_figures(program=program, group_ids=group_ids, now=now).groups
    return FacilitatorPanel(
        program=program, next=nxt, segments=segments, presenters=presenters,
        going=answers.get(Rsvp.Answer.GOING, 0), not_going=answers.get(Rsvp.Answer.NOT_GOING, 0),
        groups=groups,
    )  # fmt: skip


@dataclass
class ParticipantPanel:
    program: Program
    clinician: Any
    next: MySession | None
    attended: int
    credit: Any


def participant_panel(user: Any, program: Program, *, now: datetime) -> ParticipantPanel | None:
    """None when ``user`` is not a current member of a group of ``program``."""
    clinician = program_participant(user, program)
    if clinician is None:
        return None
    upcoming = my_sessions_list(clinician=clinician, now=now, next_scheduled=True)
    attended, credit = my_credit(clinician=clinician, now=now)
    return ParticipantPanel(
        program=program, clinician=clinician, next=upcoming[0] if upcoming else None,
        attended=attended, credit=credit,
    )  # fmt: skip
