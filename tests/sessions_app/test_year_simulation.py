"""A year of a program played at random through the real services, with every figure checked
after every step (docs/presenters-and-attendance.md, "Invariants of the year simulation").

Hypothesis plays roster imports, invitations, regrouping, newcomers, people leaving and coming
back, facilitators and their absences, schedules, reschedules and cancellations, RSVPs,
presenters, attendance sheets and their corrections, and survey waves, while a clock moves
forward. The only rows the test writes itself are the program and its coordinator; everything
else goes through the services (or the pages) the program's people use.

After every step the expected figures are computed here, independently, from the rows
(GroupMembership, Session, Attendance) and the rules, and compared with the attendance page,
the credit page and its CSV, the attendance export (CSV and XLSX), the CE-hours export, each
person's own credit, a person's page and the annual report; at the end of a quarter of the
years the annual report's PDF is read back; and the attendance page must cost as many queries
at the end of a year as at its start. The clock is Django's ``timezone.now``, moved by the
test: pages and services without a ``now=`` argument see the same simulated time.

Bounded for CI; ``CCDG_SIM_EXAMPLES`` (years) and ``CCDG_SIM_STEPS`` (steps a year) make a
longer run, for example ``CCDG_SIM_EXAMPLES=500``.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import re
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, reset_queries, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from sessions_app.groups import services as groups_services
from sessions_app.models import (
    AssignmentRun,
    Attendance,
    Clinician,
    FacilitatorAssignment,
    GroupMembership,
    Presentation,
    ProgramRole,
    Rsvp,
    Session,
)
from sessions_app.presenters import selectors as presenters_selectors
from sessions_app.presenters import services as presenters_services
from sessions_app.roster import services
from sessions_app.schedule import selectors as schedule_selectors
from sessions_app.schedule import services as schedule_services
from tests.factories import ProgramFactory, ProgramRoleFactory

EXAMPLES = int(os.environ.get("CCDG_SIM_EXAMPLES", "3"))
# The bounded run (CI) plays the same years every time; a longer run explores new ones.
EXPLORE = "CCDG_SIM_EXAMPLES" in os.environ
STEPS = int(os.environ.get("CCDG_SIM_STEPS", "30"))
# The simulated years lie in the past, so that the database's own clock (PostgreSQL's now(),
# which a trigger may use) agrees that a held session has started.
YEAR_STARTS = date(2024, 8, 19)
LATEST = datetime(2026, 6, 30, tzinfo=zoneinfo.ZoneInfo("UTC"))
TIME_ZONES = ["America/New_York", "America/Los_Angeles", "Pacific/Auckland"]
HOURS = [Decimal("1"), Decimal("1.5"), Decimal("0.75")]
DISCIPLINES = ["physician", "nurse_practitioner", "social_worker", "pharmacist", "psychologist"]
PRESENT, ABSENT, EXCUSED, GUEST = (
    Attendance.Status.PRESENT,
    Attendance.Status.ABSENT,
    Attendance.Status.EXCUSED,
    Attendance.Status.GUEST,
)
MEMBER_STATUSES = (PRESENT, ABSENT, EXCUSED)

# --- Reading pages and files -----------------------------------------------------------------


class _Tables(HTMLParser):
    """Every ``<table id=...>`` of a page: its header cells and its rows of cell texts."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, dict] = {}
        self._table: dict | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._in_head = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id"):
            self._table = {"head": [], "rows": []}
            self.tables[attrs["id"]] = self._table
        elif self._table is None:
            return
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if self._table is None:
            return
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            (self._table["head"] if self._in_head else self._table["rows"]).append(self._row)
            self._row = None
        elif tag == "thead":
            self._in_head = False
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def page_tables(html: str) -> dict[str, list[dict[str, str]]]:
    """Each table of the page as a list of {header text: cell text}."""
    parser = _Tables()
    parser.feed(html)
    out = {}
    for key, table in parser.tables.items():
        head = table["head"][0] if table["head"] else []
        out[key] = [dict(zip(head, row, strict=False)) for row in table["rows"]]
    return out


def csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def xlsx_sheets(content: bytes) -> dict[str, list[dict]]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content), read_only=True)
    sheets = {}
    for ws in book.worksheets:
        values = list(ws.iter_rows(values_only=True))
        if not values:
            continue
        head = [str(h) if h is not None else "" for h in values[0]]
        sheets[ws.title] = [dict(zip(head, row, strict=False)) for row in values[1:]]
    return sheets


def number(text) -> Decimal:
    return Decimal(str(text).strip().lstrip("'"))


# --- What the figures must be, computed from the rows ----------------------------------------


@dataclass
class Truth:
    """The figures the rules give (docs/presenters-and-attendance.md), from the rows alone."""

    held: dict[int, tuple[int, date]] = field(default_factory=dict)  # session -> group, date
    members_on: dict[int, set[int]] = field(default_factory=dict)  # held session -> members
    rows: dict[int, dict[int, str]] = field(default_factory=dict)  # session -> person -> status
    stray: list[str] = field(default_factory=list)  # broken rules about the rows themselves
    person_held: Counter = field(default_factory=Counter)
    person_attended: Counter = field(default_factory=Counter)
    person_guest: Counter = field(default_factory=Counter)
    group_attendances: Counter = field(default_factory=Counter)
    group_member_sessions: Counter = field(default_factory=Counter)
    group_held: Counter = field(default_factory=Counter)

    def recorded(self, session_id: int) -> bool:
        return bool(self.rows.get(session_id))

    def present_members(self, session_id: int) -> int:
        members = self.members_on[session_id]
        return sum(
            1 for c, s in self.rows.get(session_id, {}).items() if s == PRESENT and c in members
        )

    def credit_sessions(self, clinician_id: int) -> int:
        return self.person_attended[clinician_id] + self.person_guest[clinician_id]


def truth_of(program, now: datetime) -> Truth:
    tz = zoneinfo.ZoneInfo(program.timezone)
    t = Truth()
    memberships = list(
        GroupMembership.objects.filter(group__program=program).values_list(
            "group_id", "clinician_id", "joined_on", "left_on"
        )
    )
    sessions = list(
        Session.objects.filter(group__program=program).values_list(
            "pk", "group_id", "starts_at", "status"
        )
    )
    for pk, group_id, starts_at, status in sessions:
        if status == Session.Status.SCHEDULED and starts_at <= now:
            day = timezone.localtime(starts_at, tz).date()
            t.held[pk] = (group_id, day)
            t.members_on[pk] = {
                c
                for g, c, joined, left in memberships
                if g == group_id and joined <= day and (left is None or left > day)
            }
    for session_id, clinician_id, status in Attendance.objects.filter(
        session__group__program=program
    ).values_list("session_id", "clinician_id", "status"):
        if session_id not in t.held:
            t.stray.append(f"an attendance row ({status}) at session {session_id}, not held")
            continue
        t.rows.setdefault(session_id, {})[clinician_id] = status
        member = clinician_id in t.members_on[session_id]
        if status in MEMBER_STATUSES and not member:
            t.stray.append(
                f"clinician {clinician_id} is recorded {status} at session {session_id} "
                "without being a member of the group that day"
            )
        if status == GUEST and member:
            t.stray.append(
                f"clinician {clinician_id}, a member that day, is recorded as a guest at "
                f"session {session_id}"
            )
    for session_id, (group_id, _day) in t.held.items():
        t.group_held[group_id] += 1
        rows = t.rows.get(session_id, {})
        if not rows:
            continue
        members = t.members_on[session_id]
        t.group_member_sessions[group_id] += len(members)
        for c in members:
            t.person_held[c] += 1
            if rows.get(c) == PRESENT:
                t.person_attended[c] += 1
                t.group_attendances[group_id] += 1
        for c, status in rows.items():
            if status == GUEST:
                t.person_guest[c] += 1
    return t


# --- The simulation ----------------------------------------------------------------------------


class YearSimulation(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.now = datetime.combine(YEAR_STARTS, time(12, 0), tzinfo=zoneinfo.ZoneInfo("UTC"))
        self._clock = mock.patch("django.utils.timezone.now", new=lambda: self.now)
        self._clock.start()
        self.client = Client()
        # Names, emails and usernames numbered per year, so that a year replays identically.
        self.serial = itertools.count(1)
        self.queries: list[tuple[int, int]] = []
        self.steps = 0

    def teardown(self):
        try:
            if getattr(self, "program", None) is not None and self.steps:
                if self.print_report:
                    self.check_annual_report_pdf()
                self.check_query_counts()
        finally:
            self._clock.stop()
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)

    # --- helpers --------------------------------------------------------------------------

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.program.timezone)

    def local_now(self) -> datetime:
        return timezone.localtime(self.now, self.tz)

    def clinicians(self, **filters) -> list[Clinician]:
        return list(Clinician.objects.filter(program=self.program, **filters).order_by("pk"))

    def current_members(self) -> list[GroupMembership]:
        return list(
            GroupMembership.objects.filter(group__program=self.program, left_on__isnull=True)
            .select_related("clinician", "group")
            .order_by("pk")
        )

    def sessions(self, **filters) -> list[Session]:
        return list(
            Session.objects.filter(group__program=self.program, **filters)
            .select_related("group__program")
            .order_by("starts_at", "pk")
        )

    def upcoming(self) -> list[Session]:
        return self.sessions(status=Session.Status.SCHEDULED, starts_at__gt=self.now)

    def held(self) -> list[Session]:
        return self.sessions(status=Session.Status.SCHEDULED, starts_at__lte=self.now)

    @staticmethod
    def pick(items: list, index: int):
        return items[index % len(items)] if items else None

    def get(self, name: str, queries: list | None = None, **kwargs):
        """GET a page of the program as its coordinator; ``queries`` receives the count."""
        # Sign in again at each request: the simulated clock ends sessions made weeks ago.
        self.client.force_login(self.coordinator)
        url = reverse(f"sessions_app:{name}", kwargs={"slug": self.program.slug, **kwargs})
        reset_queries()  # the query log holds 9000 queries: a long run would overflow it
        with CaptureQueriesContext(connection) as captured:
            response = self.client.get(url)
        if queries is not None:
            queries.append(len(captured))
        assert response.status_code == 200, (name, response.status_code)
        return response

    # --- the start of the year -------------------------------------------------------------

    @initialize(
        tz=st.sampled_from(TIME_ZONES),
        hours=st.sampled_from(HOURS),
        slots=st.integers(1, 2),
        people=st.integers(4, 12),
        groups=st.integers(1, 3),
        pdf=st.integers(0, 3),
    )
    def start_year(self, tz, hours, slots, people, groups, pdf):
        # Printing the annual report takes about a second: a quarter of the years do it.
        self.print_report = pdf == 3
        self.program = ProgramFactory(
            timezone=tz, credit_hours_per_session=hours, presenter_slots=slots
        )
        self.coordinator = ProgramRoleFactory(
            program=self.program, role=ProgramRole.Role.COORDINATOR
        ).user
        self.import_roster(new=people, update=0)
        for c in self.clinicians():
            self._invite(c, accept=True)
        self.regroup(groups=groups, seed=0)
        self.facilitators(backup=True)
        self.schedule(interval=2, count=4)
        self.get("attendance_figures")  # the first request fills per-process caches

    # --- roster and invitations --------------------------------------------------------------

    @rule(new=st.integers(0, 4), update=st.integers(0, 2))
    def import_roster(self, new, update):
        lines = ["email,first_name,last_name,discipline,years_at_institution"]
        for _ in range(new):
            n = next(self.serial)
            d = DISCIPLINES[n % len(DISCIPLINES)]
            lines.append(f"person{n}@example.org,Ann{n},Lee{n},{d},{n % 15}")
        for c in self.clinicians()[:update]:
            years = next(self.serial) % 20
            lines.append(f"{c.email},{c.first_name},{c.last_name},{c.discipline},{years}")
        if len(lines) == 1:
            return
        content = ("\n".join(lines) + "\n").encode()
        draft, report = services.roster_import_upload(
            program=self.program, actor=self.coordinator, filename="roster.csv", content=content
        )
        assert draft is not None and report.ok, report.file_errors + [
            e for r in report.error_rows for e in r.errors
        ]
        services.roster_import_confirm(draft=draft, actor=self.coordinator)

    def _invite(self, clinician: Clinician, accept: bool) -> None:
        invitation = services.clinician_invite(clinician=clinician, actor=self.coordinator)
        if accept:
            token = services.invitation_token(invitation)
            valid = services.invitation_get_valid(token=token)
            assert valid is not None and valid.pk == invitation.pk
            services.invitation_accept(
                invitation=valid, username=f"u{next(self.serial)}", password="a long passphrase 1"
            )

    @rule(index=st.integers(0, 50), accept=st.booleans())
    def invite(self, index, accept):
        waiting = self.clinicians(user__isnull=True, status__in=["eligible", "invited"])
        clinician = self.pick(waiting, index)
        if clinician is not None:
            self._invite(clinician, accept)

    @rule(index=st.integers(0, 50))
    def leave(self, index):
        membership = self.pick(self.current_members(), index)
        if membership is not None:
            services.clinician_deactivate(
                clinician=membership.clinician, actor=self.coordinator, reason="moved away"
            )

    @rule(index=st.integers(0, 50))
    def come_back(self, index):
        clinician = self.pick(self.clinicians(status=Clinician.Status.INACTIVE), index)
        if clinician is not None:
            services.clinician_reactivate(clinician=clinician, actor=self.coordinator)

    # --- groups ----------------------------------------------------------------------------

    @rule(groups=st.integers(1, 3), seed=st.integers(0, 3), keep=st.booleans())
    def regroup(self, groups, seed, keep=True):
        pool = len(groups_services.assignment_pool(program=self.program))
        if not pool:
            return
        groups = min(groups, pool)
        request = groups_services.AssignmentRequest(
            groups=groups,
            min_size=1,
            max_size=max(-(-pool // groups) + 1, 2),
            seed=seed,
            mode=AssignmentRun.Mode.FRESH,
            time_limit_s=1.0,
            keep_current=keep,
        )
        self._assign(request)

    @rule(seed=st.integers(0, 3))
    def add_newcomers(self, seed):
        current = {m.clinician_id for m in self.current_members()}
        if not any(
            c.pk not in current for c in groups_services.assignment_pool(program=self.program)
        ):
            return
        request = groups_services.AssignmentRequest(
            seed=seed, mode=AssignmentRun.Mode.ADD_NEWCOMERS, time_limit_s=1.0
        )
        self._assign(request)

    def _assign(self, request) -> None:
        run = groups_services.assignment_preview(
            program=self.program, actor=self.coordinator, request=request
        )
        if isinstance(run, AssignmentRun):
            # The coordinator confirms the people the preview moves, as the page names them.
            view = groups_services.assignment_run_view(run=run)
            groups_services.assignment_commit(
                run=run,
                actor=self.coordinator,
                confirmed_moves={change.clinician.pk for change in view.changes},
            )

    @rule(backup=st.booleans())
    def facilitators(self, backup):
        """Give every group without a lead a new lead (and maybe a backup)."""
        led = set(
            FacilitatorAssignment.objects.filter(
                group__program=self.program, ends_on__isnull=True, role="lead"
            ).values_list("group_id", flat=True)
        )
        for group in self.program.groups.exclude(pk__in=led):
            roles = ["lead", "backup"] if backup else ["lead"]
            for role in roles:
                n = next(self.serial)
                facilitator = groups_services.facilitator_save(
                    program=self.program,
                    actor=self.coordinator,
                    data={"name": f"Fac {n}", "email": f"fac{n}@example.org",
                          "background": "psychologist"},
                )  # fmt: skip
                groups_services.facilitation_assign(
                    group=group, facilitator=facilitator, role=role, actor=self.coordinator
                )

    @rule(index=st.integers(0, 50))
    def change_lead(self, index):
        backup = self.pick(
            list(
                FacilitatorAssignment.objects.filter(
                    group__program=self.program, ends_on__isnull=True, role="backup"
                ).select_related("group", "facilitator")
            ),
            index,
        )
        if backup is not None:
            groups_services.facilitation_assign(
                group=backup.group, facilitator=backup.facilitator, role="lead",
                actor=self.coordinator,
            )  # fmt: skip

    @rule(index=st.integers(0, 50), remove=st.booleans())
    def facilitator_absence(self, index, remove):
        session = self.pick(self.upcoming(), index)
        if session is None:
            return
        facilitator = self.pick(schedule_selectors.facilitators_of(session=session), index)
        if facilitator is None:
            return
        try:
            if remove:
                schedule_services.facilitator_absence_remove(
                    session=session, facilitator=facilitator, actor=self.coordinator
                )
            else:
                schedule_services.facilitator_absence_mark(
                    session=session, facilitator=facilitator, reason="", actor=self.coordinator
                )
        except ValidationError:
            pass  # already (not) absent: refused with a message

    # --- the schedule ------------------------------------------------------------------------

    @rule(interval=st.integers(1, 4), count=st.integers(1, 5))
    def schedule(self, interval, count):
        groups = list(self.program.groups.all())
        if not groups:
            return
        first = self.local_now().date() + timedelta(days=1)
        rule_ = schedule_services.Recurrence(frequency="weekly", weekday=1, interval=interval)
        slots = [
            schedule_services.GroupSlot(group=g, room=None, start_time=time(7, 30)) for g in groups
        ]
        schedule_services.schedule_generate(
            program=self.program,
            slots=slots,
            rule=rule_,
            first=first,
            count=count,
            duration_minutes=60,
            agenda=schedule_services.agenda_for_program(self.program),
            actor=self.coordinator,
        )

    @rule(index=st.integers(0, 50), days=st.integers(1, 20), past=st.booleans())
    def reschedule(self, index, days, past):
        """Move a session (an upcoming one, or one already held) to a later date."""
        session = self.pick(self.held() if past else self.upcoming(), index)
        if session is None:
            return
        day = self.local_now().date() + timedelta(days=days)
        starts_at = datetime.combine(day, time(7, 30), tzinfo=self.tz)
        try:
            schedule_services.session_reschedule(
                session=session, starts_at=starts_at, room=None, actor=self.coordinator
            )
        except ValidationError:
            pass  # refused with a message: nothing changed

    @rule(index=st.integers(0, 50), past=st.booleans())
    def cancel(self, index, past):
        session = self.pick(self.held() if past else self.upcoming(), index)
        if session is None:
            return
        try:
            schedule_services.session_cancel(session=session, reason="snow", actor=self.coordinator)
        except ValidationError:
            pass

    # --- the clock -------------------------------------------------------------------------

    @rule(days=st.integers(1, 21), hour=st.sampled_from([0, 7, 8, 12, 19, 23]))
    def advance(self, days, hour):
        later = self.local_now() + timedelta(days=days)
        later = later.replace(hour=hour, minute=0, second=0, microsecond=0)
        if later <= LATEST:
            self.now = later

    @rule(minutes=st.sampled_from([0, 5, 59, 60, 90]))
    def advance_to_next_session(self, minutes):
        upcoming = self.upcoming()
        if upcoming and upcoming[0].starts_at + timedelta(minutes=minutes) <= LATEST:
            self.now = max(self.now, upcoming[0].starts_at + timedelta(minutes=minutes))

    # --- members: RSVPs and presenters ------------------------------------------------------

    def _member_and_session(self, index: int) -> tuple[Clinician, Session] | None:
        membership = self.pick(self.current_members(), index)
        if membership is None:
            return None
        mine = [s for s in self.upcoming() if s.group_id == membership.group_id]
        session = self.pick(mine, index // 7)
        return (membership.clinician, session) if session is not None else None

    @rule(index=st.integers(0, 200), going=st.booleans())
    def rsvp(self, index, going):
        pair = self._member_and_session(index)
        if pair is not None:
            clinician, session = pair
            answer = Rsvp.Answer.GOING if going else Rsvp.Answer.NOT_GOING
            presenters_services.rsvp_set(
                session=session, clinician=clinician, answer=answer, actor=clinician.user
            )

    @rule(index=st.integers(0, 200))
    def volunteer(self, index):
        pair = self._member_and_session(index)
        if pair is not None:
            clinician, session = pair
            try:
                presenters_services.presenter_volunteer(
                    session=session, clinician=clinician, working_title="Being heard",
                    actor=clinician.user,
                )  # fmt: skip
            except ValidationError:
                pass  # closed, or already volunteered: refused with a message

    @rule(index=st.integers(0, 200))
    def ask_to_present(self, index):
        pair = self._member_and_session(index)
        if pair is not None:
            clinician, session = pair
            try:
                presenters_services.presenter_invite(
                    session=session, clinician=clinician, actor=self.coordinator
                )
            except ValidationError:
                pass

    def _open_presentations(self, *statuses) -> list[Presentation]:
        return list(
            Presentation.objects.filter(
                session__group__program=self.program,
                session__status=Session.Status.SCHEDULED,
                session__starts_at__gt=self.now,
                status__in=statuses,
            )
            .select_related("session__group__program", "clinician")
            .order_by("pk")
        )

    @rule(index=st.integers(0, 50), accept=st.booleans())
    def answer_invitation(self, index, accept):
        presentation = self.pick(self._open_presentations(Presentation.Status.INVITED), index)
        if presentation is None:
            return
        answer = (
            presenters_services.presenter_accept
            if accept
            else (presenters_services.presenter_decline)
        )
        answer(presentation=presentation, actor=presentation.clinician.user)

    @rule(index=st.integers(0, 50))
    def withdraw(self, index):
        presentation = self.pick(
            self._open_presentations(Presentation.Status.CONFIRMED, Presentation.Status.WAITLISTED),
            index,
        )
        if presentation is not None:
            presenters_services.presenter_withdraw(
                presentation=presentation, actor=self.coordinator
            )

    # --- attendance ----------------------------------------------------------------------------

    @rule(index=st.integers(0, 50), marks=st.lists(st.sampled_from(
        [PRESENT, PRESENT, ABSENT, EXCUSED, None]), min_size=30, max_size=30),
        guests=st.lists(st.integers(0, 50), max_size=3))  # fmt: skip
    def record_attendance(self, index, marks, guests):
        """Record (or correct) a held session's sheet: statuses for some of the members of
        the group on that day, and a few guests who were not."""
        session = self.pick(self.held(), index)
        if session is None:
            return
        truth = truth_of(self.program, self.now)
        members = sorted(truth.members_on[session.pk])
        statuses = {c: mark for c, mark in zip(members, marks, strict=False) if mark is not None}
        others = [c.pk for c in self.clinicians() if c.pk not in truth.members_on[session.pk]]
        guest_ids = sorted({self.pick(others, g) for g in guests} - {None})
        presenters_services.attendance_record(
            session=session,
            statuses=statuses,
            guest_ids=guest_ids,
            actor=self.coordinator,
            now=self.now,
        )

    @rule(index=st.integers(0, 50))
    def record_someone_not_in_the_group_that_day(self, index):
        """Marking a non-member present, absent or excused is refused, and nothing is saved."""
        session = self.pick(self.held(), index)
        if session is None:
            return
        truth = truth_of(self.program, self.now)
        others = [c.pk for c in self.clinicians() if c.pk not in truth.members_on[session.pk]]
        outsider = self.pick(others, index)
        if outsider is None:
            return
        before = sorted(Attendance.objects.values_list("session_id", "clinician_id", "status"))
        with pytest.raises(ValidationError):
            presenters_services.attendance_record(
                session=session, statuses={outsider: PRESENT}, guest_ids=[],
                actor=self.coordinator, now=self.now,
            )  # fmt: skip
        after = sorted(Attendance.objects.values_list("session_id", "clinician_id", "status"))
        assert after == before

    @rule(index=st.integers(0, 50), cancelled=st.booleans())
    def record_before_it_is_held(self, index, cancelled):
        """A session not started, or cancelled, takes no attendance."""
        if cancelled:
            session = self.pick(self.sessions(status=Session.Status.CANCELLED), index)
        else:
            session = self.pick(self.upcoming(), index)
        if session is None:
            return
        truth_members = {m.clinician_id for m in self.current_members()
                         if m.group_id == session.group_id}  # fmt: skip
        with pytest.raises(ValidationError):
            presenters_services.attendance_record(
                session=session, statuses=dict.fromkeys(truth_members, PRESENT), guest_ids=[],
                actor=self.coordinator, now=self.now,
            )  # fmt: skip

    @rule(index=st.integers(0, 50), fill=st.sampled_from([PRESENT, ABSENT, EXCUSED, None]))
    def save_sheet_as_shown(self, index, fill):
        """The coordinator opens a held session's sheet and saves it, filling in only the
        people with no status shown (``None``: with "everyone not marked was present"). The
        sheet lists the members on that day; nobody is shown present on a session nobody
        recorded."""
        session = self.pick(self.held(), index)
        if session is None:
            return
        truth = truth_of(self.program, self.now)
        response = self.get("attendance_record", pk=session.pk)
        form = response.context["form"]
        listed = {
            int(name.removeprefix("member_")) for name in form.fields if name.startswith("member_")
        }
        expected = truth.members_on[session.pk]
        assert listed == expected, (
            f"the sheet of session {session.pk} lists {sorted(listed)}; the members that day "
            f"were {sorted(expected)}"
        )
        recorded = truth.rows.get(session.pk, {})
        not_going = set(
            Rsvp.objects.filter(session=session, answer=Rsvp.Answer.NOT_GOING).values_list(
                "clinician_id", flat=True
            )
        )
        data = {}
        for c in listed:
            name = f"member_{c}"
            shown = form.initial.get(name, form.fields[name].initial)
            if c in recorded:
                assert shown == recorded[c], (name, shown, recorded[c])
            elif c in not_going:
                assert shown in (EXCUSED, None, ""), (name, shown)
            else:
                assert shown in (None, ""), (
                    f"{name} is pre-set to {shown!r} on a sheet where nobody recorded it"
                )
            if shown or fill:
                data[name] = shown or fill
        data["guests"] = [str(c) for c, s in recorded.items() if s == GUEST]
        if fill is None:
            data["rest_present"] = "1"
        self.client.force_login(self.coordinator)
        saved = self.client.post(
            reverse("sessions_app:attendance_record",
                    kwargs={"slug": self.program.slug, "pk": session.pk}),
            data,
        )  # fmt: skip
        assert saved.status_code == 302, saved.content.decode()[:2000]

    @rule(index=st.integers(0, 50))
    def clear_sheet(self, index):
        """A sheet recorded by mistake is cleared (then the session may be moved or cancelled)."""
        session = self.pick([s for s in self.held() if s.attendance.exists()], index)
        if session is not None:
            self.client.force_login(self.coordinator)
            cleared = self.client.post(
                reverse("sessions_app:attendance_clear",
                        kwargs={"slug": self.program.slug, "pk": session.pk})
            )  # fmt: skip
            assert cleared.status_code == 302
            assert not session.attendance.exists()

    # --- surveys -------------------------------------------------------------------------------

    @rule(audience=st.sampled_from(["all_active", "group", "last_sessions"]),
          index=st.integers(0, 50))  # fmt: skip
    def open_wave(self, audience, index):
        from surveys import waves

        group = self.pick(list(self.program.groups.all()), index)
        try:
            waves.wave_open(
                program=self.program,
                actor=self.coordinator,
                name=f"Wave {next(self.serial)}",
                closes_at=self.now + timedelta(days=14),
                audience=audience,
                sessions=3 if audience == "last_sessions" else None,
                group=group if audience == "group" else None,
                now=self.now,
            )
        except ValidationError:
            pass  # nobody in that audience: refused with a message

    @rule(index=st.integers(0, 50), answers=st.integers(1, 4))
    def answer_wave(self, index, answers):
        from surveys import waves
        from surveys.models import WaveRecipient
        from surveys.responses import choices_for, group_labels_for, question_specs

        recipients = [
            r
            for r in WaveRecipient.objects.filter(wave__program=self.program)
            .select_related("wave__instrument", "wave__program")
            .order_by("pk")
            if waves.link_usable(r, self.now)
        ]
        for k in range(answers):
            recipient = self.pick(recipients, index + k)
            if recipient is None:
                continue
            # Read it again: an earlier answer of this loop may have used the link.
            recipient = WaveRecipient.objects.select_related(
                "wave__instrument", "wave__program"
            ).get(pk=recipient.pk)
            if not waves.link_usable(recipient, self.now):
                continue
            wave = recipient.wave
            labels = group_labels_for(wave)
            given = {}
            for n, spec in enumerate(question_specs(wave.instrument)):
                options = choices_for(spec, labels)
                if options and (index + n) % 3:
                    given[spec.code] = options[(index + n) % len(options)][0]
            waves.response_submit(recipient=recipient, answers=given, now=self.now)
            waves.respondents_record(wave=wave)

    # --- invariants --------------------------------------------------------------------------

    @invariant()
    def figures_add_up(self):
        if getattr(self, "program", None) is None:
            return
        self.steps += 1
        program, now = self.program, self.now
        program.refresh_from_db()
        truth = truth_of(program, now)
        assert not truth.stray, truth.stray
        self.check_rows(truth)
        self.check_attendance_page(truth)
        self.check_credit(truth)
        self.check_exports(truth)
        self.check_annual_figures(truth)
        self.check_presenters()

    def check_rows(self, truth: Truth) -> None:
        inactive_members = [
            m.clinician_id
            for m in self.current_members()
            if m.clinician.status == Clinician.Status.INACTIVE
        ]
        assert not inactive_members, f"inactive clinicians still in a group: {inactive_members}"
        for session_id, members in truth.members_on.items():
            assert truth.present_members(session_id) <= len(members)

    def regular(self, truth: Truth, clinician_id: int) -> bool:
        held = truth.person_held[clinician_id]
        return held > 0 and 2 * min(truth.credit_sessions(clinician_id), held) >= held

    def check_attendance_page(self, truth: Truth) -> None:
        counted: list[int] = []
        response = self.get("attendance_figures", queries=counted)
        self.queries.append((self.steps, counted[0]))
        tables = page_tables(response.content.decode())
        by_name = {c.full_name: c for c in self.clinicians()}
        hours = self.program.credit_hours_per_session
        listed = set()
        for row in tables["person-figures"]:
            if len(row) < 2:
                continue  # "No members."
            c = by_name[row["Name"]]
            listed.add(c.pk)
            cell = row["Present / recorded sessions of their group"]
            match = re.fullmatch(r"(\d+) / (\d+)(?: \((\d+)%\))?", cell)
            assert match, row
            attended, held = int(match[1]), int(match[2])
            assert attended <= held, row
            assert match[3] is None or int(match[3]) <= 100, row
            want = (truth.person_attended[c.pk], truth.person_held[c.pk])
            assert (attended, held) == want, (c.full_name, row, want)
            assert int(row["As a guest"]) == truth.person_guest[c.pk], (row, truth.person_guest)
            assert number(row["Credit hours"]) == hours * truth.credit_sessions(c.pk), row
            assert (row["Regular"] == "Yes") == self.regular(truth, c.pk), row
        members_now = {m.clinician_id for m in self.current_members()}
        assert members_now <= listed, f"current members missing: {members_now - listed}"
        was_member = {c for sid, members in truth.members_on.items() if truth.recorded(sid)
                      for c in members}  # fmt: skip
        assert was_member <= listed, f"members of recorded sessions missing: {was_member - listed}"
        shown = Counter()
        for row in tables["session-figures"]:
            cell = row.get("Present / members that day", "")
            match = re.fullmatch(r"(\d+) / (\d+)(?: \((\d+)%\))?", cell)
            if match is None:
                assert cell in ("not recorded", ""), row
                continue
            present, members = int(match[1]), int(match[2])
            assert present <= members, row
            assert match[3] is None or int(match[3]) <= 100, row
            shown[(row["Group"], row["Date"], present, members, int(row["Guests"]))] += 1
        names = {g.pk: g.name for g in self.program.groups.all()}
        expected = Counter(
            (
                names[group_id],
                f"{datetime.combine(day, time()):%a %b %-d, %Y}",
                truth.present_members(sid),
                len(truth.members_on[sid]),
                sum(1 for st in truth.rows[sid].values() if st == GUEST),
            )
            for sid, (group_id, day) in truth.held.items()
            if truth.recorded(sid)
        )
        assert shown == expected, (shown - expected, expected - shown)
        by_group = {g.name: g.pk for g in self.program.groups.all()}
        for row in tables["group-figures"]:
            if len(row) < 2:
                continue
            g = by_group[row["Group"]]
            assert int(row["Sessions held"]) == truth.group_held[g], row
            cell = row["Present / members"]
            if truth.group_member_sessions[g]:
                match = re.fullmatch(r"(\d+) / (\d+) \((\d+)%\)", cell)
                assert match, row
                assert (int(match[1]), int(match[2])) == (
                    truth.group_attendances[g], truth.group_member_sessions[g],
                ), row  # fmt: skip
                assert int(match[3]) <= 100, row
            else:
                assert cell == "–", row

    def check_credit(self, truth: Truth) -> None:
        hours = self.program.credit_hours_per_session
        exported = csv_rows(self.get("credit_export").content)
        by_email = {r["email"]: r for r in exported}
        assert len(by_email) == len(exported), "someone is listed twice in the credit CSV"
        people = {c.email: c for c in self.clinicians()}
        for email, row in by_email.items():
            c = people[email]
            want = {
                "sessions_attended": truth.credit_sessions(c.pk),
                "in_own_group": truth.person_attended[c.pk],
                "as_guest": truth.person_guest[c.pk],
                "own_group_sessions_recorded": truth.person_held[c.pk],
            }
            assert {k: int(row[k]) for k in want} == want, (row, want)
            assert number(row["credit_hours"]) == hours * truth.credit_sessions(c.pk), row
        credited = {c.email for c in people.values() if truth.credit_sessions(c.pk)}
        assert credited <= set(by_email), f"credit missing from the CSV: {credited - set(by_email)}"
        page = page_tables(self.get("credit_summary").content.decode())["credit-table"]
        page_rows = sorted((r["Name"], number(r["Credit hours"])) for r in page if len(r) > 2)
        assert page_rows == sorted(
            (f"{r['last_name']}, {r['first_name']}", number(r["credit_hours"])) for r in exported
        )
        # One person's page a step (in turn): the same figures, in words.
        everyone = self.clinicians()
        c = everyone[self.steps % len(everyone)]
        html = self.get("clinician_detail", pk=c.pk).content.decode()
        said = re.search(r'id="person-attendance">(.*?)</dd>', html, re.S)
        if said is None:
            assert not truth.credit_sessions(c.pk) and not truth.person_held[c.pk], c.pk
            assert c.pk not in {m.clinician_id for m in self.current_members()}, c.pk
        else:
            text = " ".join(said[1].split())
            match = re.fullmatch(
                r"Present at (\d+) of (\d+) recorded sessions? of their group"
                r"(?:, and (\d+) as a guest elsewhere)? · ([\d.]+) credit hours?",
                text,
            )
            assert match, text
            assert (int(match[1]), int(match[2]), int(match[3] or 0), number(match[4])) == (
                truth.person_attended[c.pk], truth.person_held[c.pk], truth.person_guest[c.pk],
                hours * truth.credit_sessions(c.pk),
            ), text  # fmt: skip
        for c in people.values():
            attended, credit = presenters_selectors.my_credit(clinician=c, now=self.now)
            assert (attended, credit) == (
                truth.credit_sessions(c.pk), hours * truth.credit_sessions(c.pk),
            ), (c.pk, attended, credit)  # fmt: skip

    def check_exports(self, truth: Truth) -> None:
        from analysis.exports import tables as exports_tables

        xlsx = xlsx_sheets(
            exports_tables.build_attendance(program=self.program, params={"format": "xlsx"}).content
        )
        for key, title in (("people", "Per person"), ("sessions", "Per session"),
                           ("groups", "Per group"), ("program", "Program")):  # fmt: skip
            as_csv = csv_rows(
                exports_tables.build_attendance(
                    program=self.program, params={"format": f"csv-{key}"}
                ).content
            )
            sheet = xlsx[title]
            assert len(as_csv) == max(len(sheet), 1), (key, len(as_csv), len(sheet))
            for from_csv, from_xlsx in zip(as_csv, sheet, strict=False):
                for column, value in from_xlsx.items():
                    if isinstance(value, int | float) and not isinstance(value, bool):
                        assert number(from_csv[column]) == number(value), (key, column)
        by_name = {(c.last_name, c.first_name): c for c in self.clinicians()}
        for row in xlsx["Per person"]:
            if row.get("first_name") is None:
                continue
            c = by_name[(row["last_name"], row["first_name"])]
            rate = row.get("attendance_rate")
            assert rate is None or rate <= 1, row
            want = {
                "sessions_attended": truth.credit_sessions(c.pk),
                "of_these_as_guest": truth.person_guest[c.pk],
                "own_group_sessions_recorded": truth.person_held[c.pk],
            }
            assert {k: row[k] for k in want} == want, (row, want)
        for row in xlsx["Per session"]:
            rate = row.get("attendance_rate")
            assert rate is None or rate <= 1, row
            if row.get("members") is not None:
                assert row["present"] <= row["members"], row
        names = {g.pk: g.name for g in self.program.groups.all()}
        expected_sessions = Counter(
            (names[group_id], day, truth.present_members(sid), len(truth.members_on[sid]))
            for sid, (group_id, day) in truth.held.items()
        )
        shown_sessions = Counter(
            (r["group"], date.fromisoformat(str(r["date"])[:10]), r["present"], r["members"])
            for r in xlsx["Per session"]
            if r.get("members") is not None
        )
        assert shown_sessions == expected_sessions, (
            shown_sessions - expected_sessions, expected_sessions - shown_sessions,
        )  # fmt: skip
        by_group = {g.name: g.pk for g in self.program.groups.all()}
        for row in xlsx["Per group"]:
            if row.get("members") is None:
                continue
            g = by_group[row["group"]]
            rate = row.get("attendance_rate")
            assert rate is None or rate <= 1, row
            assert (row["attendances"], row["members_on_the_day"]) == (
                truth.group_attendances[g], truth.group_member_sessions[g],
            ), row  # fmt: skip
        for row in xlsx["Program"]:
            if row.get("figure") == "members present at recorded sessions":
                assert (row["value"], row["of"] or 0) == (
                    sum(truth.group_attendances.values()),
                    sum(truth.group_member_sessions.values()),
                ), row  # fmt: skip
                assert row["rate"] is None or row["rate"] <= 1, row
        ce = csv_rows(exports_tables.build_ce_hours(program=self.program, params={}).content)
        people = {c.email: c for c in self.clinicians()}
        hours = self.program.credit_hours_per_session
        for row in ce:
            if row.get("email"):
                c = people[row["email"]]
                assert number(row["credit_hours"]) == hours * truth.credit_sessions(c.pk), row

    def expected_totals(self, truth: Truth) -> dict:
        hours = self.program.credit_hours_per_session
        credited = [c for c in set(truth.person_attended) | set(truth.person_guest)
                    if truth.credit_sessions(c)]  # fmt: skip
        return {
            "attendances": sum(truth.group_attendances.values()),
            "expected": sum(truth.group_member_sessions.values()),
            "credited": len(credited),
            "credit_hours": sum((hours * truth.credit_sessions(c) for c in credited), Decimal(0)),
        }

    def check_annual_figures(self, truth: Truth) -> None:
        from analysis.exports import pdf as exports_pdf

        f = exports_pdf.annual_figures(self.program, self.now)
        want = self.expected_totals(truth)
        assert f["attendances"] == want["attendances"], (f["attendances"], want)
        assert f["expected"] == want["expected"], (f["expected"], want)
        assert f["credited"] == want["credited"], (f["credited"], want)
        assert f["credit_hours"] == exports_pdf.hours_text(want["credit_hours"]), (f, want)
        for g in f["groups"]:
            assert g["attendances"] <= g["expected"], g
            assert g["lead"] + g["backup"] + g["gap"] == g["held"], g

    def check_presenters(self) -> None:
        for session in self.upcoming():
            confirmed = list(
                session.presentations.filter(status=Presentation.Status.CONFIRMED).values_list(
                    "slot", flat=True
                )
            )
            assert len(confirmed) <= session.presenter_slots
            assert len(set(confirmed)) == len(confirmed)
            waiting = session.presentations.filter(status=Presentation.Status.WAITLISTED).count()
            assert not waiting or len(confirmed) == session.presenter_slots, (
                f"session {session.pk}: {waiting} waiting while a slot is free"
            )

    def check_annual_report_pdf(self) -> None:
        from pypdf import PdfReader

        from analysis.exports import pdf as exports_pdf

        truth = truth_of(self.program, self.now)
        want = self.expected_totals(truth)
        pdf = exports_pdf.build_annual_report(program=self.program, params={}).content
        text = " ".join(
            " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages).split()
        )
        if not truth.held:
            return
        match = re.search(r"\((\d+) attendances of (\d+) possible", text)
        assert match, text[:3000]
        assert (int(match[1]), int(match[2])) == (want["attendances"], want["expected"]), text
        credit = re.search(r"credit: (\d+) clinicians? earned ([\d.]+) hours?", text)
        assert credit, text[:3000]
        assert int(credit[1]) == want["credited"], text
        assert Decimal(credit[2]) == want["credit_hours"], text

    def check_query_counts(self) -> None:
        """The attendance page costs as many queries after the year as at its start."""
        if len(self.queries) < 2:
            return
        first, last = self.queries[0][1], self.queries[-1][1]
        assert first == last, f"attendance page queries by step: {self.queries}"


def test_a_year_of_the_program_keeps_every_figure_true(db):
    run_state_machine_as_test(
        YearSimulation,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            print_blob=True,
            derandomize=not EXPLORE,
        ),
    )
