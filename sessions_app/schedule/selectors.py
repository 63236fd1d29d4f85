"""Reading the schedule: who sees which sessions, rooms and blackout dates, refreshments,
private calendar feeds and facilitator cover (the writes are in
:mod:`sessions_app.schedule.services`). Reads (``*_list``, ``*_get``) own their joins so
that pages cost the same number of queries for 1 and for 100 sessions."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from sessions_app import roles
from sessions_app.groups import selectors as groups_selectors
from sessions_app.groups.models import Facilitator, FacilitatorAssignment, GroupMembership
from sessions_app.presenters.models import Presentation, Rsvp
from sessions_app.programs.models import Program
from sessions_app.schedule.models import (
    BlackoutDate,
    CalendarToken,
    FacilitatorAbsence,
    RefreshmentOrder,
    Room,
    Session,
)

# --- Reading sessions -----------------------------------------------------------------------


def _with_local_times(sessions: list[Session], program: Program) -> list[Session]:
    for session in sessions:
        session.local_start = program.local(session.starts_at)
        session.local_end = program.local(session.planned_end)
    return sessions


def _session_rows() -> QuerySet[Session]:
    confirmed = Presentation.objects.filter(
        session=OuterRef("pk"), status=Presentation.Status.CONFIRMED
    )
    return Session.objects.select_related("group__program", "room").annotate(
        presenter_confirmed=Exists(confirmed)
    )


def session_list(
    *, program: Program, user: Any, upcoming_only: bool = False, group_id: int | None = None
) -> QuerySet[Session]:
    """The program's sessions ``user`` may see, oldest first (of one group, if given); attach
    local times with :func:`with_local_times` to the rows shown."""
    rows = _session_rows().filter(group__program=program)
    groups = roles.visible_group_ids(user=user, program=program)
    if groups is not None:
        rows = rows.filter(group_id__in=groups)
    if group_id is not None:
        rows = rows.filter(group_id=group_id)
    if upcoming_only:
        rows = rows.filter(starts_at__gte=timezone.now())
    return rows.order_by("starts_at", "group__name", "pk")


def with_local_times(sessions: Iterable[Session], program: Program) -> list[Session]:
    return _with_local_times(list(sessions), program)


def session_get(*, program: Program, pk: int) -> Session | None:
    session = _session_rows().filter(group__program=program, pk=pk).first()
    if session is not None:
        _with_local_times([session], program)
    return session


# --- Rooms and blackout dates ---------------------------------------------------------------


def room_list(*, program: Program) -> QuerySet[Room]:
    upcoming = Q(sessions__starts_at__gte=timezone.now(), sessions__status=Session.Status.SCHEDULED)
    return Room.objects.filter(program=program).annotate(
        upcoming_sessions=Count("sessions", filter=upcoming)
    )


def sessions_on_blackout_dates(*, program: Program) -> list[Session]:
    """Upcoming scheduled sessions that fall on a blackout date (added after scheduling)."""
    blackouts = set(BlackoutDate.objects.filter(program=program).values_list("date", flat=True))
    rows = _with_local_times(
        list(
            Session.objects.filter(
                group__program=program,
                status=Session.Status.SCHEDULED,
                starts_at__gte=timezone.now(),
            ).select_related("group")
        ),
        program,
    )
    return [s for s in rows if s.local_start.date() in blackouts]


# --- Refreshments -------------------------------------------------------------------------------


@dataclass
class MeetingDate:
    """One date on which groups of the program meet, with what breakfast needs to know."""

    date: date
    sessions: list[Session]
    order: RefreshmentOrder | None
    members: int  # current members of the groups meeting that day
    going: int  # RSVPs "going"
    not_going: int  # RSVPs "cannot make it"

    @property
    def expected(self) -> int:
        return max(self.members - self.not_going, 0)

    @property
    def suggested_headcount(self) -> int:
        # Members who have not said no; at least everyone who said yes.
        return max(self.expected, self.going)

    @property
    def without_room(self) -> list[Session]:
        return [s for s in self.sessions if s.room_id is None]

    @property
    def order_confirmed(self) -> bool:
        return self.order is not None and self.order.status == RefreshmentOrder.Status.CONFIRMED


def _day_bounds(day: date, program: Program) -> tuple[datetime, datetime]:
    return program.at(day, time()), program.at(day + timedelta(days=1), time())


def meeting_dates(
    *, program: Program, start: date | None = None, end: date | None = None
) -> list[MeetingDate]:
    """Dates with scheduled sessions (local dates), from ``start`` (today) on. Five queries."""
    start = start or program.today()
    scheduled = Session.objects.filter(
        group__program=program,
        status=Session.Status.SCHEDULED,
        starts_at__gte=_day_bounds(start, program)[0],
    )
    if end is not None:
        scheduled = scheduled.filter(starts_at__lt=_day_bounds(end, program)[1])
    sessions = _with_local_times(
        list(scheduled.select_related("group", "room").order_by("starts_at", "group__name")),
        program,
    )
    by_day: dict[date, list[Session]] = defaultdict(list)
    for session in sessions:
        by_day[session.local_start.date()].append(session)
    members = dict(
        GroupMembership.objects.current()
        .filter(group_id__in={s.group_id for s in sessions})
        .values("group_id")
        .annotate(n=Count("id"))
        .values_list("group_id", "n")
    )
    answers: dict[int, dict[str, int]] = defaultdict(dict)
    for session_id, answer, n in (
        Rsvp.objects.filter(session__in=[s.pk for s in sessions])
        .values("session_id", "answer")
        .annotate(n=Count("id"))
        .values_list("session_id", "answer", "n")
    ):
        answers[session_id][answer] = n
    orders = {
        o.date: o for o in RefreshmentOrder.objects.filter(program=program, date__in=list(by_day))
    }
    return [
        MeetingDate(
            date=day,
            sessions=day_sessions,
            order=orders.get(day),
            members=sum(members.get(s.group_id, 0) for s in day_sessions),
            going=sum(answers[s.pk].get(Rsvp.Answer.GOING, 0) for s in day_sessions),
            not_going=sum(answers[s.pk].get(Rsvp.Answer.NOT_GOING, 0) for s in day_sessions),
        )
        for day, day_sessions in sorted(by_day.items())
    ]


def meeting_date_get(*, program: Program, day: date) -> MeetingDate:
    """One date, with or without sessions (an order may outlive its cancelled sessions)."""
    found = meeting_dates(program=program, start=day, end=day)
    if found:
        return found[0]
    return MeetingDate(
        date=day,
        sessions=[],
        order=RefreshmentOrder.objects.filter(program=program, date=day).first(),
        members=0,
        going=0,
        not_going=0,
    )


@dataclass
class Checklist:
    dates: list[MeetingDate]

    @property
    def orders_open(self) -> list[MeetingDate]:
        return [d for d in self.dates if not d.order_confirmed]

    @property
    def sessions_without_room(self) -> list[Session]:
        return [s for d in self.dates for s in d.without_room]


def refreshment_checklist(*, program: Program) -> Checklist:
    """What the coordinator still has to arrange for the upcoming meeting dates."""
    return Checklist(dates=meeting_dates(program=program))


# --- Calendar feeds -------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def calendar_tokens_of(*, user: Any) -> list[CalendarToken]:
    return list(
        CalendarToken.objects.filter(user=user, revoked_at__isnull=True)
        .select_related("program")
        .order_by("scope", "created_at")
    )


def calendar_token_resolve(*, token: str) -> CalendarToken | None:
    """The live feed for ``token``, or None: unknown, revoked, or its owner no longer allowed
    (deactivated, or no longer coordinator of the program) all look the same."""
    if not token or len(token) > 100:
        return None
    row = (
        CalendarToken.objects.filter(token_hash=_token_hash(token), revoked_at__isnull=True)
        .select_related("user", "program")
        .first()
    )
    if row is None or not row.user.is_active:
        return None
    if row.scope == CalendarToken.Scope.PROGRAM and (
        row.program is None or not roles.can(row.user, "calendar.program_feed", row.program)
    ):
        return None
    return row


def _feed_rows() -> QuerySet[Session]:
    return _session_rows().prefetch_related("segments")


def person_feed_sessions(*, user: Any) -> list[Session]:
    """The sessions of every group the person is a current member or facilitator of, in any
    program, cancelled ones included (calendars must learn about cancellations)."""
    member_of = GroupMembership.objects.current().filter(clinician__user=user).values("group_id")
    facilitates = (
        FacilitatorAssignment.objects.current().filter(facilitator__user=user).values("group_id")
    )
    return list(
        _feed_rows()
        .filter(Q(group_id__in=member_of) | Q(group_id__in=facilitates))
        .order_by("starts_at")
    )


def program_feed_sessions(*, program: Program) -> list[Session]:
    return list(_feed_rows().filter(group__program=program).order_by("starts_at", "group__name"))


def feed_sessions(*, token: CalendarToken) -> list[Session]:
    if token.scope == CalendarToken.Scope.PROGRAM:
        return program_feed_sessions(program=token.program)
    return person_feed_sessions(user=token.user)


def session_for_ics(*, session: Session) -> Session:
    return _feed_rows().get(pk=session.pk)


# --- Facilitator cover ----------------------------------------------------------------------


@dataclass
class Cover:
    """Who facilitates one session: the lead, the backups, who is absent, who leads today."""

    lead: Facilitator | None
    backups: list[Facilitator]
    absent: list[Facilitator]
    acting_lead: Facilitator | None

    @property
    def gap(self) -> str:
        if self.acting_lead is None:
            return "No facilitator available"
        return ""

    @property
    def lead_absent(self) -> bool:
        return self.lead is not None and self.acting_lead != self.lead

    @property
    def available_backups(self) -> list[Facilitator]:
        absent = {f.pk for f in self.absent}
        return [b for b in self.backups if b.pk not in absent and b != self.acting_lead]


def cover_of(
    *, facilitations: list[FacilitatorAssignment], absences: list[FacilitatorAbsence]
) -> Cover:
    """The lead leads unless absent; then the first backup who is not absent is acting lead."""
    absent_ids = {a.facilitator_id for a in absences}
    ordered = sorted(facilitations, key=lambda f: (f.starts_on, f.pk))
    lead = next((f.facilitator for f in ordered if f.role == FacilitatorAssignment.Role.LEAD), None)
    backups = [f.facilitator for f in ordered if f.role == FacilitatorAssignment.Role.BACKUP]
    acting: Facilitator | None
    if lead is not None and lead.pk not in absent_ids:
        acting = lead
    else:
        acting = next((b for b in backups if b.pk not in absent_ids), None)
    return Cover(
        lead=lead,
        backups=backups,
        absent=[a.facilitator for a in absences],
        acting_lead=acting,
    )


def _current_facilitations() -> Prefetch[Any, Any, Any]:
    return Prefetch(
        "group__facilitations",
        queryset=FacilitatorAssignment.objects.current().select_related("facilitator"),
        to_attr="current_facilitations",
    )


def _absences() -> Prefetch[Any, Any, Any]:
    return Prefetch(
        "absences",
        queryset=FacilitatorAbsence.objects.select_related("facilitator").order_by("id"),
        to_attr="absence_list",
    )


def session_cover(*, session: Session) -> Cover:
    facilitations = list(
        FacilitatorAssignment.objects.current()
        .filter(group_id=session.group_id)
        .select_related("facilitator")
    )
    absences = list(
        FacilitatorAbsence.objects.filter(session=session).select_related("facilitator")
    )
    return cover_of(facilitations=facilitations, absences=absences)


@dataclass
class CoverageView:
    sessions: list[Session]  # each with .cover
    backups_available: int
    unassigned: list[Facilitator]

    @property
    def gaps(self) -> list[Session]:
        return [s for s in self.sessions if s.cover.gap]


def coverage_upcoming(*, program: Program) -> CoverageView:
    """Every upcoming scheduled session with its lead, backups, acting lead and any gap."""
    sessions = _with_local_times(
        list(
            Session.objects.filter(
                group__program=program,
                status=Session.Status.SCHEDULED,
                starts_at__gte=timezone.now(),
            )
            .select_related("group", "room")
            .prefetch_related(_current_facilitations(), _absences())
            .order_by("starts_at", "group__name")
        ),
        program,
    )
    for session in sessions:
        session.cover = cover_of(
            facilitations=session.group.current_facilitations, absences=session.absence_list
        )
    pool = groups_selectors.facilitator_coverage(program=program)
    return CoverageView(
        sessions=sessions, backups_available=pool.backups_available, unassigned=pool.unassigned
    )


@dataclass
class FacilitatedSession:
    """A session of a group the user facilitates, with their part in it."""

    session: Session
    facilitator: Facilitator
    role: str  # FacilitatorAssignment.Role
    cover: Cover

    @property
    def absent(self) -> bool:
        return any(f.pk == self.facilitator.pk for f in self.cover.absent)

    @property
    def acting_lead(self) -> bool:
        return self.role != FacilitatorAssignment.Role.LEAD and self.cover.acting_lead == (
            self.facilitator
        )

    @property
    def role_label(self) -> str:
        if self.role == FacilitatorAssignment.Role.LEAD:
            return "Lead, marked absent" if self.absent else "Lead"
        if self.acting_lead:
            if self.cover.lead is None:
                return "Acting lead (the group has no lead)"
            return "Acting lead (the lead is absent)"
        return "Backup, marked absent" if self.absent else "Backup"


def facilitated_sessions_list(
    *, user: Any, program: Program, now: datetime | None = None, scheduled_first: int | None = None
) -> list[FacilitatedSession]:
    """Today's and the upcoming sessions of the groups ``user`` leads or backs up in
    ``program``, each with their part (lead, backup, acting lead when the lead is absent), in a
    fixed number of queries. From the start of today, so a session that has just ended is still
    at hand to record its attendance. ``scheduled_first``: only the first so many of them that
    are not cancelled."""
    if not getattr(user, "is_authenticated", False):
        return []
    now = now or timezone.now()
    mine: dict[int, FacilitatorAssignment] = {}
    for assignment in (
        FacilitatorAssignment.objects.current()
        .filter(group__program=program, facilitator__user=user)
        .select_related("facilitator")
        .order_by("-role", "starts_on", "pk")  # "lead" sorts after "backup": lead wins
    ):
        mine.setdefault(assignment.group_id, assignment)
    if not mine:
        return []
    today = program.at(program.local_day(now), time.min)
    rows = (
        Session.objects.filter(group_id__in=mine, starts_at__gte=today)
        .select_related("group", "room")
        .prefetch_related(_current_facilitations(), _absences())
        .order_by("starts_at", "group__name")
    )
    if scheduled_first is not None:
        rows = rows.filter(status=Session.Status.SCHEDULED)[:scheduled_first]
    sessions = _with_local_times(list(rows), program)
    return [
        FacilitatedSession(
            session=session,
            facilitator=mine[session.group_id].facilitator,
            role=mine[session.group_id].role,
            cover=cover_of(
                facilitations=session.group.current_facilitations, absences=session.absence_list
            ),
        )
        for session in sessions
    ]


def facilitators_of(*, session: Session) -> list[Facilitator]:
    return [
        f.facilitator
        for f in FacilitatorAssignment.objects.current()
        .filter(group_id=session.group_id)
        .select_related("facilitator")
        .order_by("role", "starts_on", "pk")
    ]


def own_facilitator(*, user: Any, session: Session) -> Facilitator | None:
    """The user's facilitator row if they lead or back up the session's group."""
    if not getattr(user, "is_authenticated", False):
        return None
    return next((f for f in facilitators_of(session=session) if f.user_id == user.pk), None)
