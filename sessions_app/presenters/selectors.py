"""Presenters and attendance, the reads: whose turn it is to present, a clinician's sessions,
the attendance sheet, attendance figures and continuing-education credit. Each loads what its
page needs in a fixed number of queries, whatever the number of sessions or people.

The program's rules (slots, waiting line, when volunteering closes, what "attended" and "held"
mean) are told once, at the top of :mod:`sessions_app.presenters.services` (see also
docs/presenters-and-attendance.md).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from sessions_app.groups.history import (
    facilitations_on,
    members_on,
    membership_in_force_q,
    memberships_on,
    session_day,
)
from sessions_app.groups.models import (
    FacilitatorAssignment,
    Group,
    GroupMembership,
    current_membership_q,
)
from sessions_app.presenters.models import Attendance, Presentation, Rsvp
from sessions_app.programs.models import Program
from sessions_app.roster.models import Clinician
from sessions_app.schedule.models import Session
from sessions_app.schedule.selectors import cover_of

OPEN = (Presentation.Status.CONFIRMED, Presentation.Status.WAITLISTED, Presentation.Status.INVITED)
ATTENDED = (Attendance.Status.PRESENT, Attendance.Status.GUEST)
MEMBER_STATUSES = (Attendance.Status.PRESENT, Attendance.Status.ABSENT, Attendance.Status.EXCUSED)


# --- Small helpers ----------------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    return now if now is not None else timezone.now()


def volunteer_closes_at(session: Session) -> datetime:
    return session.starts_at - timedelta(days=session.group.program.volunteer_close_days)


def is_member(clinician: Clinician, group_id: int) -> bool:
    return GroupMembership.objects.current().filter(clinician=clinician, group_id=group_id).exists()


def program_participant(user: Any, program: Program) -> Clinician | None:
    """The user's roster entry in ``program`` if they are a current member of one of its
    groups (only group members RSVP and volunteer)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Clinician.objects.filter(current_membership_q("memberships__"), program=program, user=user)
        .select_related("program")
        .first()
    )


# --- Fair turns -------------------------------------------------------------------------------


@dataclass
class Turns:
    """How often one member presented this academic year (the program is the year)."""

    clinician: Clinician
    past: int = 0
    upcoming: int = 0
    last_at: datetime | None = None
    open_upcoming: bool = False  # confirmed, waiting or asked for an upcoming session

    @property
    def total(self) -> int:
        return self.past + self.upcoming

    def sort_key(self) -> tuple[Any, ...]:
        # Fewest presentations; then longest since the last one (never is longest); then name.
        last = self.last_at.timestamp() if self.last_at else float("-inf")
        c = self.clinician
        return (self.total, last, c.last_name.lower(), c.first_name.lower(), c.pk)


@dataclass
class GroupTurns:
    group: Group
    members: list[Turns] = field(default_factory=list)

    @property
    def not_yet(self) -> list[Turns]:
        return [t for t in self.members if t.past == 0]

    @property
    def suggestions(self) -> list[Turns]:
        """Whom to ask next, best first: people already lined up for a session are left out."""
        return sorted((t for t in self.members if not t.open_upcoming), key=Turns.sort_key)


def turns_for(*, clinician: Clinician, now: datetime | None = None) -> Turns:
    now = _now(now)
    turns = Turns(clinician=clinician)
    rows = Presentation.objects.filter(
        clinician=clinician,
        status=Presentation.Status.CONFIRMED,
        session__status=Session.Status.SCHEDULED,
    ).values_list("session__starts_at", flat=True)
    for starts_at in rows:
        _count(turns, starts_at, now)
    return turns


def _count(turns: Turns, starts_at: datetime, now: datetime) -> None:
    if starts_at <= now:
        turns.past += 1
    else:
        turns.upcoming += 1
    if turns.last_at is None or starts_at > turns.last_at:
        turns.last_at = starts_at


def fair_turns_list(
    *, program: Program, group_ids: set[int] | None = None, now: datetime | None = None
) -> list[GroupTurns]:
    """Per group (all, or ``group_ids``): each current member's turns, in three queries."""
    now = _now(now)
    groups = Group.objects.filter(program=program).order_by("name")
    if group_ids is not None:
        groups = groups.filter(pk__in=group_ids)
    by_group = {g.pk: GroupTurns(group=g) for g in groups}
    memberships = (
        GroupMembership.objects.current()
        .filter(group_id__in=by_group)
        .select_related("clinician")
        .order_by("clinician__last_name", "clinician__first_name")
    )
    turns: dict[int, Turns] = {}
    for m in memberships:
        turns[m.clinician_id] = Turns(clinician=m.clinician)
        by_group[m.group_id].members.append(turns[m.clinician_id])
    rows = Presentation.objects.filter(
        clinician_id__in=turns,
        session__group__program=program,
        session__status=Session.Status.SCHEDULED,
        status__in=OPEN,
    ).values_list("clinician_id", "status", "session__starts_at")
    for clinician_id, status, starts_at in rows:
        t = turns[clinician_id]
        if status == Presentation.Status.CONFIRMED:
            _count(t, starts_at, now)
        if starts_at > now:
            t.open_upcoming = True
    return list(by_group.values())


# --- My sessions ------------------------------------------------------------------------------


@dataclass
class MySession:
    session: Session
    mine: Presentation | None
    presenters: list[Presentation]
    waitlist_length: int
    waitlist_position: int | None
    rsvp: str | None
    volunteer_open: bool
    closes_at: datetime


def my_sessions_list(
    *, clinician: Clinician, now: datetime | None = None, next_scheduled: bool = False
) -> list[MySession]:
    """The upcoming sessions of the clinician's group, with their own presenter status and
    RSVP, in a fixed number of queries; ``next_scheduled``: only the next one that is not
    cancelled (the home page's card)."""
    from django.db.models import Prefetch

    now = _now(now)
    group_ids = (
        GroupMembership.objects.current()
        .filter(clinician=clinician)
        .values_list("group_id", flat=True)
    )
    sessions = (
        Session.objects.filter(group_id__in=group_ids, starts_at__gt=now)
        .select_related("group__program", "room")
        .prefetch_related(
            Prefetch(
                "presentations",
                queryset=Presentation.objects.filter(status__in=OPEN)
                .select_related("clinician")
                .order_by("created_at", "id"),
                to_attr="open_presentations",
            ),
            Prefetch(
                "rsvps", queryset=Rsvp.objects.filter(clinician=clinician), to_attr="my_rsvps"
            ),
        )
        .order_by("starts_at")
    )
    if next_scheduled:
        sessions = sessions.filter(status=Session.Status.SCHEDULED)[:1]
    result = []
    for s in sessions:
        presenters = sorted(
            (p for p in s.open_presentations if p.status == Presentation.Status.CONFIRMED),
            key=lambda p: p.slot or 0,
        )
        waiting = [p for p in s.open_presentations if p.status == Presentation.Status.WAITLISTED]
        mine = next((p for p in s.open_presentations if p.clinician_id == clinician.pk), None)
        position = None
        if mine is not None and mine.status == Presentation.Status.WAITLISTED:
            position = waiting.index(mine) + 1
        closes = volunteer_closes_at(s)
        result.append(
            MySession(
                session=s,
                mine=mine,
                presenters=presenters,
                waitlist_length=len(waiting),
                waitlist_position=position,
                rsvp=s.my_rsvps[0].answer if s.my_rsvps else None,
                volunteer_open=s.status == Session.Status.SCHEDULED and now < closes,
                closes_at=closes,
            )
        )
    return result


# --- Attendance -------------------------------------------------------------------------------


@dataclass
class SheetFacilitator:
    facilitator: Any
    role: str  # "Lead", "Backup"
    absent: bool
    acting_lead: bool


def attendance_members(*, session: Session) -> list[Clinician]:
    """The people on the attendance sheet: the group's members on the session's day (see
    :mod:`sessions_app.groups.history`), never people who joined later or had already left."""
    return list(members_on(group_id=session.group_id, day=session_day(session)))


def guest_candidates(*, session: Session) -> QuerySet[Clinician]:
    """Clinicians of the same program who were not members of the session's group that day,
    plus anyone already recorded as a guest (even if they have since become inactive)."""
    members = GroupMembership.objects.filter(
        membership_in_force_q(session_day(session)), group_id=session.group_id
    ).values("clinician_id")
    recorded = Attendance.objects.filter(session=session, status__in=ATTENDED).values(
        "clinician_id"
    )
    return (
        Clinician.objects.filter(program_id=session.group.program_id)
        .exclude(pk__in=members)
        .filter(~Q(status=Clinician.Status.INACTIVE) | Q(pk__in=recorded))
        .order_by("last_name", "first_name", "id")
    )


def sheet_facilitators(*, session: Session) -> list[SheetFacilitator]:
    """The facilitators of the session's group on its day, marked lead or backup, absent, and
    who led (acting lead). Shown on the sheet; they are not members and not in the rates."""
    assignments = facilitations_on(
        FacilitatorAssignment.objects.filter(group_id=session.group_id).select_related(
            "facilitator"
        ),
        session_day(session),
    )
    absences = list(session.absences.select_related("facilitator"))
    cover = cover_of(facilitations=assignments, absences=absences)
    absent = {a.facilitator_id for a in absences}
    acting = cover.acting_lead.pk if cover.acting_lead else None
    return [
        SheetFacilitator(
            facilitator=a.facilitator,
            role=a.get_role_display(),
            absent=a.facilitator_id in absent,
            acting_lead=a.facilitator_id == acting,
        )
        for a in sorted(assignments, key=lambda a: (a.role != "lead", a.starts_on, a.pk))
    ]


def attendance_initial(
    *, members: list[Clinician], existing: dict[int, str], rsvps: dict[int, str]
) -> dict[int, str]:
    """What the sheet shows ticked: the recorded status; for a session nobody has recorded,
    "excused" for those who said they cannot make it and nothing for anyone else (the sheet
    must not claim that people were present before someone says so)."""
    initial = {}
    for m in members:
        if m.pk in existing and existing[m.pk] in MEMBER_STATUSES:
            initial[m.pk] = existing[m.pk]
        elif existing.get(m.pk) == Attendance.Status.GUEST:
            initial[m.pk] = Attendance.Status.PRESENT
        elif rsvps.get(m.pk) == Rsvp.Answer.NOT_GOING:
            initial[m.pk] = Attendance.Status.EXCUSED
    return initial


# --- Attendance figures and credit -------------------------------------------------------------


@dataclass
class SessionFigure:
    """A held session. ``members``: the group's members on its day; ``present``, ``absent``,
    ``excused``: of them; ``guests``: people from elsewhere who came."""

    session_id: int
    group_id: int
    starts_at: datetime
    members: int
    present: int = 0
    absent: int = 0
    excused: int = 0
    guests: int = 0
    recorded: bool = False

    @property
    def not_recorded(self) -> int:
        return self.members - self.present - self.absent - self.excused

    @property
    def share(self) -> int | None:
        return round(100 * self.present / self.members) if self.members else None


@dataclass
class PersonFigure:
    """``held``: recorded held sessions of the groups the person was a member of on each day;
    ``attended``: of those, the ones they were present at; ``guest_visits``: sessions of other
    groups they came to as a guest. Credit counts both, so ``credit_hours`` = (attended +
    guest visits) x the program's hours per session."""

    clinician: Clinician
    group: Group | None
    attended: int = 0
    held: int = 0
    guest_visits: int = 0
    credit_hours: Decimal = Decimal(0)

    @property
    def sessions_credited(self) -> int:
        return self.attended + self.guest_visits

    @property
    def share(self) -> int | None:
        return round(100 * self.attended / self.held) if self.held else None

    @property
    def pk(self) -> int:
        return self.clinician.pk

    @property
    def regular(self) -> bool:
        return self.held > 0 and 2 * min(self.sessions_credited, self.held) >= self.held

    def credit_row(self) -> list[Any]:
        """This person's row of the credit CSV (columns: :data:`CREDIT_COLUMNS`)."""
        c = self.clinician
        group = self.group.name if self.group else ""
        return [c.last_name, c.first_name, c.email, group, self.sessions_credited,
                self.attended, self.guest_visits, self.held, self.credit_hours]  # fmt: skip


# The continuing-education credit CSV: the attendance page's export and the reports page's.
CREDIT_COLUMNS = [
    "last_name",
    "first_name",
    "email",
    "group",
    "sessions_attended",
    "in_own_group",
    "as_guest",
    "own_group_sessions_recorded",
    "credit_hours",
]


@dataclass
class GroupFigure:
    """``members``: current members; ``held``: sessions held; ``recorded``: of them, with
    attendance recorded; ``attendances``: members present over the recorded sessions;
    ``member_sessions``: the members on each recorded session's day, summed (the most
    attendances there could have been)."""

    group: Group
    members: int
    held: int = 0
    recorded: int = 0
    attendances: int = 0
    member_sessions: int = 0
    guests: int = 0
    regular: int = 0

    @property
    def mean_present(self) -> float | None:
        return round(self.attendances / self.recorded, 1) if self.recorded else None

    @property
    def rate(self) -> float | None:
        return self.attendances / self.member_sessions if self.member_sessions else None

    @property
    def share(self) -> int | None:
        return round(100 * self.rate) if self.rate is not None else None


@dataclass
class Figures:
    program: Program
    sessions: list[SessionFigure]
    people: list[PersonFigure]
    groups: list[GroupFigure]
    held: int
    eligible: int
    regular: int

    @property
    def recorded(self) -> int:
        return sum(1 for s in self.sessions if s.recorded)

    @property
    def attendances(self) -> int:
        return sum(g.attendances for g in self.groups)

    @property
    def member_sessions(self) -> int:
        return sum(g.member_sessions for g in self.groups)

    @property
    def regular_share(self) -> int | None:
        return round(100 * self.regular / self.eligible) if self.eligible else None

    @property
    def eligible_too_low(self) -> bool:
        """More people attend regularly than the program says are eligible: the count of
        eligible clinicians needs updating (the share would be above 100%)."""
        return self.regular > self.eligible

    @property
    def regular_sentence(self) -> str:
        share = ""
        if self.regular_share is not None and not self.eligible_too_low:
            share = f" ({self.regular_share}%)"
        noun = "clinician" if self.eligible == 1 else "clinicians"
        verb = "attends" if self.regular == 1 else "attend"
        return f"{self.regular} of {self.eligible} eligible {noun}{share} {verb} regularly"


def attendance_figures(
    *,
    program: Program,
    group_ids: set[int] | None = None,
    now: datetime | None = None,
    everyone: bool = False,
) -> Figures:
    """Attendance per session, person, group and program, and credit hours, in five queries.

    Held: started and not cancelled; recorded: with attendance recorded. Membership is taken
    on each session's day (:mod:`sessions_app.groups.history`), so regrouping, joining and leaving
    never rewrite the past: a session's rate is members present / members that day, a
    person's is sessions present / recorded sessions of the group they were in, and nobody is
    counted in a group they were not in. Credit: every presence at a held session, in one's
    group or as a guest elsewhere. Regularly: present (or a guest elsewhere) at least half of
    one's recorded sessions. Eligible: the program's count of eligible clinicians, or the
    roster size when that is not set.

    People listed: current members of the groups in scope and anyone who was a member of one
    of them at a held session; with ``everyone`` (whole program only) also anyone with credit
    and no group, e.g. a former participant or a guest from outside the groups.
    """
    tally = _Tally.load(program=program, group_ids=group_ids, now=_now(now))
    for session in tally.held:
        tally.count_session(session)
    tally.count_guest_visits()
    if everyone and group_ids is None:
        tally.add_outsiders_with_credit()
    return tally.figures()


@dataclass
class _Tally:
    """What :func:`attendance_figures` reads once (five queries) and the figures it builds."""

    program: Program
    all_groups: dict[int, Group]
    groups: dict[int, Group]  # the groups in scope
    memberships: list[GroupMembership]
    history: dict[int, list[GroupMembership]]  # group id -> every membership, ever
    current: dict[int, GroupMembership]  # clinician id -> their current membership
    held: list[Session]  # held sessions of the groups in scope
    rows: dict[int, dict[int, str]]  # session id -> clinician id -> attendance status
    clinicians: dict[int, Clinician]
    people: dict[int, PersonFigure] = field(default_factory=dict)
    group_figures: dict[int, GroupFigure] = field(default_factory=dict)
    sessions: list[SessionFigure] = field(default_factory=list)
    member_of_session: dict[int, set[int]] = field(default_factory=dict)
    visits: dict[int, int] = field(default_factory=dict)  # clinician id -> guest visits

    @classmethod
    def load(cls, *, program: Program, group_ids: set[int] | None, now: datetime) -> _Tally:
        all_groups = {g.pk: g for g in Group.objects.filter(program=program).order_by("name")}
        groups = {pk: g for pk, g in all_groups.items() if group_ids is None or pk in group_ids}
        memberships = list(
            GroupMembership.objects.filter(group__program=program)
            .select_related("clinician")
            # What the figures, the page and the credit file read of a person: not the
            # available slots (JSON) or the row's timestamps, for every member of the year.
            .defer("clinician__available_slots", "clinician__created_at", "clinician__updated_at")
            .order_by("joined_on", "id")
        )
        history: dict[int, list[GroupMembership]] = defaultdict(list)
        current: dict[int, GroupMembership] = {}
        for m in memberships:
            history[m.group_id].append(m)
            if m.left_on is None:
                current[m.clinician_id] = m
        held = list(
            Session.objects.filter(
                group_id__in=groups, status=Session.Status.SCHEDULED, starts_at__lte=now
            )
            .order_by("starts_at", "group__name", "pk")
            .only("pk", "group_id", "starts_at", "status", "duration_minutes")
        )
        # Attendance at every held session of the program: a member's guest visits to groups
        # out of scope count for their credit too.
        rows: dict[int, dict[int, str]] = defaultdict(dict)
        for session_id, clinician_id, status in Attendance.objects.filter(
            session__group__program=program,
            session__status=Session.Status.SCHEDULED,
            session__starts_at__lte=now,
        ).values_list("session_id", "clinician_id", "status"):
            rows[session_id][clinician_id] = status
        tally = cls(
            program=program, all_groups=all_groups, groups=groups, memberships=memberships,
            history=history, current=current, held=held, rows=rows,
            clinicians={m.clinician_id: m.clinician for m in memberships},
        )  # fmt: skip
        tally.group_figures = {pk: GroupFigure(group=g, members=0) for pk, g in groups.items()}
        for m in current.values():
            if m.group_id in groups:
                tally.person(m.clinician_id)
                tally.group_figures[m.group_id].members += 1
        return tally

    def person(self, clinician_id: int) -> PersonFigure:
        if clinician_id not in self.people:
            now_in = self.current.get(clinician_id)
            self.people[clinician_id] = PersonFigure(
                clinician=self.clinicians.get(clinician_id),  # filled in figures() for outsiders
                group=self.all_groups[now_in.group_id] if now_in else None,
            )
        return self.people[clinician_id]

    def members_of(self, session: Session) -> set[int]:
        """Who was a member of the session's group on the session's day."""
        day = self.program.local_day(session.starts_at)
        return {m.clinician_id for m in memberships_on(self.history[session.group_id], day)}

    def count_session(self, s: Session) -> None:
        """One held session: its own figure, its group's, and its members' held and attended."""
        members = self.members_of(s)
        self.member_of_session[s.pk] = members
        recorded = self.rows.get(s.pk, {})
        figure = SessionFigure(
            session_id=s.pk, group_id=s.group_id, starts_at=s.starts_at, members=len(members),
            recorded=bool(recorded),
        )  # fmt: skip
        for clinician_id, status in recorded.items():
            if clinician_id not in members:
                figure.guests += status in ATTENDED
            elif status in ATTENDED:
                figure.present += 1
            elif status == Attendance.Status.ABSENT:
                figure.absent += 1
            else:
                figure.excused += 1
        self.sessions.append(figure)
        g = self.group_figures[s.group_id]
        g.held += 1
        g.guests += figure.guests
        if figure.recorded:
            g.recorded += 1
            g.attendances += figure.present
            g.member_sessions += figure.members
            for clinician_id in members:
                p = self.person(clinician_id)
                p.held += 1
                p.attended += recorded.get(clinician_id) in ATTENDED

    def count_guest_visits(self) -> None:
        """Guest visits, program-wide: a presence at a held session of a group one was not a
        member of that day. Sessions out of scope need their members too."""
        out_of_scope = [sid for sid in self.rows if sid not in self.member_of_session]
        if out_of_scope:
            for s in Session.objects.filter(pk__in=out_of_scope).only(
                "pk", "group_id", "starts_at"
            ):
                self.member_of_session[s.pk] = self.members_of(s)
        visits: dict[int, int] = defaultdict(int)
        for session_id, recorded in self.rows.items():
            for clinician_id, status in recorded.items():
                if status in ATTENDED and clinician_id not in self.member_of_session[session_id]:
                    visits[clinician_id] += 1
        self.visits = visits

    def add_outsiders_with_credit(self) -> None:
        """Anyone with credit and no group in scope (a former participant, a guest)."""
        credited = {
            c for recorded in self.rows.values() for c, st in recorded.items() if st in ATTENDED
        }
        outsiders = credited - set(self.people)
        self.clinicians.update(Clinician.objects.in_bulk(outsiders - set(self.clinicians)))
        for clinician_id in outsiders:
            self.person(clinician_id)

    def figures(self) -> Figures:
        program = self.program
        rate = program.credit_hours_per_session
        for clinician_id, p in self.people.items():
            p.guest_visits = self.visits.get(clinician_id, 0)
            p.credit_hours = rate * p.sessions_credited
            if p.clinician is None:
                p.clinician = self.clinicians[clinician_id]
        ordered = sorted(
            self.people.values(),
            key=lambda p: (p.clinician.last_name.lower(), p.clinician.first_name.lower(), p.pk),
        )
        for p in ordered:
            if p.regular and p.group is not None and p.group.pk in self.group_figures:
                self.group_figures[p.group.pk].regular += 1
        eligible = program.eligible_clinicians or Clinician.objects.filter(program=program).count()
        return Figures(
            program=program,
            sessions=self.sessions,
            people=ordered,
            groups=list(self.group_figures.values()),
            held=len(self.held),
            eligible=eligible,
            regular=sum(1 for p in ordered if p.regular),
        )


def credit_summary(
    *, program: Program, group_ids: set[int] | None = None, now: datetime | None = None
) -> list[PersonFigure]:
    """Continuing-education credit for the year, per person: the people of
    :func:`attendance_figures` (for the whole program, everyone who attended a held session,
    members and guests alike, plus current members with none)."""
    return attendance_figures(program=program, group_ids=group_ids, now=now, everyone=True).people


def my_credit(*, clinician: Clinician, now: datetime | None = None) -> tuple[int, Decimal]:
    """Sessions the clinician attended this year and the credit hours they earned."""
    now = _now(now)
    attended = Attendance.objects.filter(
        clinician=clinician,
        status__in=ATTENDED,
        session__status=Session.Status.SCHEDULED,
        session__starts_at__lte=now,
    ).count()
    return attended, clinician.program.credit_hours_per_session * attended
