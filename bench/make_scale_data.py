"""Scale data: about a hundred times the demo, shaped like a hospital system, for benchmarks.

    python bench/make_scale_data.py [--scale 1.0] [--seed 20261207] [--migrate]

Uses DATABASE_URL (or the embedded SQLite database when it is not set) and refuses a database
that holds anything beyond an empty migrated schema. ``--migrate`` migrates it first. Prints
what each step made and how long it took. From code (the tests): ``build(scale=..., seed=...)``.

At scale 1.0 (docs/performance.md, "Scale data"): 50 programs, 6,600 clinicians, 150 groups
over three years, 7,000 sessions with their agenda, room bookings, RSVPs, attendance,
presentations and case notes, 200 survey waves with 50,000 responses, 20,000 outbox rows in
every state, 100,000 audit events, and a finished analysis of the two large waves. Every count
scales linearly with ``scale`` (with at least one of everything).

It starts from the demo (``manage.py seed_demo``), so the demo sign-ins exist (coordinator,
facilitator, participant, reports, admin; password ``ccdg-demo`` even outside debug mode: the
data is for a throwaway benchmark database), then makes the demo program a large one and the
demo users' roles span several programs, so that the pages a benchmark opens meet their worst
case: the coordinator coordinates about ten programs, the report viewer sees all of them, the
facilitator leads groups in three programs and the participant is a member in three.

Rows are written with ``bulk_create`` through the models (encrypted case-note fields encrypt as
on any save). The audit events join the hash chain as ``AuditEvent.objects.bulk_create`` links
them (``ccdg.audit_chain``), but keep their generated times spread over three years. The
analysis runs are made by the app's own service (``analysis.runs.services.run_execute``).

Deterministic for a seed: the same counts, names, dates relative to today, answers and ids
(on a fresh database). Secrets are not: link nonces, encrypted text and the demo's random
parts come from ``secrets`` as in the app.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import secrets
import sys
import time as clock
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TextIO

if __name__ == "__main__":  # run as a script: set Django up before the models are imported
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccdg.settings")
    import django

    django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, models, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.text import slugify  # noqa: E402

from analysis.runs.models import AnalysisRun  # noqa: E402
from analysis.runs.services import run_create, run_execute  # noqa: E402
from ccdg.audit import audit_chain_verify  # noqa: E402
from ccdg.audit_chain import GENESIS, chain_digest  # noqa: E402
from ccdg.models import AuditEvent  # noqa: E402
from ccdg.outbox.models import OutboxMessage  # noqa: E402
from sessions_app.management.commands.seed_demo import (  # noqa: E402
    DEMO_PASSWORD,
    DEMO_SLUG,
    FIRST_NAMES,
    LAST_NAMES,
    WORKING_TITLES,
)
from sessions_app.models import (  # noqa: E402
    Attendance,
    CaseNote,
    Clinician,
    Discipline,
    Facilitator,
    FacilitatorAbsence,
    FacilitatorAssignment,
    Gender,
    Group,
    GroupMembership,
    Presentation,
    Program,
    ProgramRole,
    Room,
    RoomBooking,
    Rsvp,
    Session,
    SessionSegment,
    TakeHomePoint,
)
from sessions_app.reminders import kinds as reminder_kinds  # noqa: E402
from sessions_app.reminders.due import occurrence_of  # noqa: E402
from sessions_app.schedule.services import SLOT_MINUTES, agenda_for_program  # noqa: E402
from surveys.demo import answers_for  # noqa: E402
from surveys.digest import responses_changed  # noqa: E402
from surveys.models import Response, Wave, WaveRecipient  # noqa: E402
from surveys.outbox_kinds import SURVEY_INVITATION, SURVEY_REMINDER  # noqa: E402
from surveys.responses import answers_clean, question_specs  # noqa: E402
from surveys.services import builtin_instrument  # noqa: E402
from surveys.waves import link_token, token_hash  # noqa: E402

SEED = 20261207
# The demo program's two large waves (slugs within the demo program, ``gim-ccdg``).
ONLINE_WAVE = "Department wellbeing survey 2026"
PAPER_WAVE = "Grand rounds paper survey 2026"
ONLINE_WAVE_SLUG = "department-wellbeing-survey-2026"
PAPER_WAVE_SLUG = "grand-rounds-paper-survey-2026"
BATCH = 2000
DEMO_USERS = ("coordinator", "facilitator", "participant", "reports", "admin")

# The figures at scale 1.0 (issue 20): totals over the whole database, demo included.
FULL = {
    "programs": 50,
    "clinicians": 6600,
    "groups": 150,
    "sessions": 7000,
    "waves": 200,
    "responses": 50_000,
    "outbox": 20_000,
    "audit": 100_000,
    # The demo program, made large.
    "demo_roster": 3000,
    "demo_groups": 30,
    "demo_online_recipients": 3000,
    "demo_online_responses": 2200,
    "demo_paper_responses": 40_000,
    # The demo users' reach.
    "coordinator_programs": 10,
}
ROLE_PROGRAMS = 3  # the facilitator leads, and the participant is a member, in this many
GROUP_SIZE = (8, 12)
SESSION_GAP_DAYS = 14  # groups meet every other week
DEMO_YEAR_DAYS = 182  # the demo's groups: half a year held, half a year to come
DEMO_FOURTH_TUESDAYS = 12  # the demo's first three groups also meet on these, over that year
HISTORY_DAYS = 3 * 365
CANCELLED_SHARE = 0.03
PAPER_EXCLUDED_SHARE = 0.02

DEPARTMENTS = [
    "Internal Medicine", "Family Medicine", "Pediatrics", "Oncology", "Emergency Medicine",
    "Psychiatry", "Cardiology", "Neurology", "Obstetrics and Gynecology", "Surgery",
    "Geriatrics", "Palliative Care", "Nephrology", "Critical Care", "Anesthesiology",
    "Hospital Medicine", "Infectious Diseases", "Rheumatology", "Endocrinology",
    "Gastroenterology", "Pulmonology", "Dermatology", "Rehabilitation Medicine",
    "Primary Care Nursing", "Adolescent Medicine",
]  # fmt: skip
INSTITUTIONS = [
    ("Riverside Community Hospital", "America/New_York", Program.Locale.US, "rch"),
    ("Northgate University Hospital", "America/Chicago", Program.Locale.US, "nuh"),
    ("Lakeshore General Hospital", "America/Toronto", Program.Locale.CA, "lgh"),
    ("Pacific Valley Medical Center", "America/Los_Angeles", Program.Locale.US, "pvmc"),
    ("St Brigid's Hospital", "Europe/Dublin", Program.Locale.IE, "sbh"),
    ("Harbour City Health", "Australia/Sydney", Program.Locale.AU, "hch"),
]
MORE_FIRST_NAMES = [
    "Abel", "Beatriz", "Cyrus", "Daria", "Emeka", "Fatima", "Gustavo", "Hana", "Ibrahim",
    "Johanna", "Kwame", "Leila", "Mateo", "Noor", "Oskar", "Priya", "Rafael", "Sofia", "Tobias",
    "Uma", "Viktor", "Wanjiru", "Xavier", "Yara", "Zain", "Anika", "Bilal", "Celine", "Diego",
    "Eun-ji", "Francesca", "Gideon", "Helga", "Isaac", "Jun", "Kamala", "Lorenzo", "Mei",
]  # fmt: skip
MORE_LAST_NAMES = [
    "Achterberg", "Bianchi", "Contreras", "Dlamini", "Egan", "Ferreira", "Gallagher", "Huang",
    "Ivanova", "Johansson", "Kim", "Lombardi", "Moreau", "Novak", "O'Brien", "Petrov", "Rossi",
    "Schmidt", "Takahashi", "Urquhart", "Vasquez", "Walsh", "Yilmaz", "Zimmermann", "Afolabi",
    "Bergstrom", "Costa", "Desai", "Engel", "Flores", "Gupta", "Hughes", "Iqbal", "Jovanovic",
]  # fmt: skip
DISCIPLINES = [
    (Discipline.PHYSICIAN, 58), (Discipline.NURSE_PRACTITIONER, 10),
    (Discipline.PHYSICIAN_ASSISTANT, 6), (Discipline.NURSE, 9), (Discipline.SOCIAL_WORKER, 5),
    (Discipline.PHARMACIST, 4), (Discipline.PSYCHOLOGIST, 5), (Discipline.OTHER, 3),
]  # fmt: skip
MEETING_TIMES = [time(7, 0), time(7, 30), time(12, 0), time(12, 30), time(17, 0), time(17, 30)]
CANCEL_REASONS = ["Public holiday", "Facilitator ill", "Department meeting", "Snow day"]
TAKE_HOME = [
    "Name the feeling before deciding what to do.",
    "A boundary said kindly is still a kindness.",
    "Ask the family what they are most afraid of.",
    "It is fine not to have the answer in the room.",
    "Notice when I start to rescue.",
    "Silence gives the patient room to speak.",
]
CASE_DIFFICULTIES = [
    "Asks for stronger pain medicine at every visit and leaves angry when I say no.",
    "Misses most appointments, then comes to urgent care very unwell.",
    "Family members disagree about the plan and each calls me separately.",
    "I feel I am failing them: nothing I suggest seems to help.",
]
CASE_WISHES = [
    "To understand why I dread the visit.",
    "Ideas for setting limits without losing the relationship.",
    "To hear how others would handle the family.",
]
IP_PREFIXES = ["10.20", "10.31", "172.16", "192.168"]
FIELD_NAMES = ["first_name", "last_name", "email", "status", "discipline", "room", "starts_at"]


class ScaleDataRefused(Exception):
    """The database is not an empty migrated schema: nothing was written."""


@dataclass
class Sizes:
    """How much of everything at ``scale``: the figures above, times scale, at least one."""

    scale: float

    def __getattr__(self, name: str) -> int:
        try:
            full = FULL[name]
        except KeyError:
            raise AttributeError(name) from None
        # At least one of everything, and one program besides the demo's (which the
        # coordinator coordinates too).
        least = 2 if name in ("programs", "coordinator_programs") else 1
        return max(least, round(full * self.scale))


@dataclass
class Plan:
    """One group's life: when it starts, how often it meets, whether it has ended."""

    group: Group
    first: date
    count: int
    clock: time
    members: list[Clinician] = field(default_factory=list)
    lead: Facilitator | None = None
    backup: Facilitator | None = None

    @property
    def last(self) -> date:
        return self.first + timedelta(days=SESSION_GAP_DAYS * (self.count - 1))


class Builder:
    def __init__(self, *, scale: float, seed: int, stdout: TextIO, analyse: bool = True) -> None:
        self.size = Sizes(scale)
        self.analyse = analyse
        self.rng = random.Random(seed)
        self.out = stdout
        self.now = timezone.now()
        self.User = get_user_model()
        self.plans: list[Plan] = []
        self.programs: list[Program] = []
        self.steps: dict[str, float] = {}

    # -- helpers ----------------------------------------------------------------------------

    def step(self, name: str, fn: Callable[[], str]) -> None:
        started = clock.perf_counter()
        with transaction.atomic():
            what = fn()
        seconds = clock.perf_counter() - started
        self.steps[name] = seconds
        self.out.write(f"  {name:<22} {seconds:7.1f} s  {what}\n")
        self.out.flush()

    def pick(self, weighted: list[tuple[Any, int]]) -> Any:
        values, weights = zip(*weighted, strict=True)
        return self.rng.choices(values, weights)[0]

    def uid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    # -- the demo, and the programs ---------------------------------------------------------

    def demo(self) -> str:
        from django.conf import settings

        # Outside debug mode seed_demo wants --force and gives random passwords (printed to a
        # buffer that is dropped): the benchmark signs in with the published one instead.
        call_command("seed_demo", force=not settings.DEBUG, stdout=io.StringIO())
        # One hash for the five of them (each hash takes a noticeable fraction of a second).
        self.User.objects.filter(username__in=DEMO_USERS).update(
            password=make_password(DEMO_PASSWORD)
        )
        return f"{Clinician.objects.count()} clinicians, {Session.objects.count()} sessions"

    def make_programs(self) -> str:
        demo = Program.objects.get(slug=DEMO_SLUG)
        combos = [(d, i) for i in INSTITUTIONS for d in DEPARTMENTS]
        self.rng.shuffle(combos)
        rows = []
        for department, (institution, tz, locale, short) in combos[: self.size.programs - 1]:
            balint = self.rng.random() < 0.15
            rows.append(
                Program(
                    name=f"{department} Case Discussion Groups",
                    slug=slugify(f"{department}-{short}")[:60],
                    department=department,
                    institution=institution,
                    academic_year="2026-2027",
                    timezone=tz,
                    locale=locale,
                    format=Program.Format.BALINT_90 if balint else Program.Format.CCDG_60,
                    physicians_only=balint,
                    presenter_slots=self.pick([(1, 85), (2, 15)]),
                )
            )
        Program.objects.bulk_create(rows)
        self.programs = [demo, *Program.objects.exclude(pk=demo.pk).order_by("pk")]
        return f"{len(self.programs)} programs"

    # -- rosters ------------------------------------------------------------------------------

    def names(self) -> Iterator[tuple[str, str]]:
        firsts = FIRST_NAMES + MORE_FIRST_NAMES
        lasts = LAST_NAMES + MORE_LAST_NAMES
        while True:
            yield self.rng.choice(firsts), self.rng.choice(lasts)

    def roster_sizes(self) -> list[int]:
        """Clinicians to add per program (the demo's 66 are there already)."""
        demo_now = Clinician.objects.filter(program=self.programs[0]).count()
        demo = max(0, self.size.demo_roster - demo_now)
        others = len(self.programs) - 1
        rest = max(0, self.size.clinicians - demo_now - demo)
        sizes = [demo]
        for i in range(others):
            share = rest // others + (1 if i < rest % others else 0)
            sizes.append(max(share, self.groups_of(i + 1) * GROUP_SIZE[1] + 4))
        return sizes

    def groups_of(self, index: int) -> int:
        """Groups to add to program ``index`` (0 is the demo, which has 3 already)."""
        if index == 0:
            return max(0, self.size.demo_groups - 3)
        others = len(self.programs) - 1
        rest = max(others, self.size.groups - max(3, self.size.demo_groups))
        return max(1, rest // others + (1 if index - 1 < rest % others else 0))

    def make_rosters(self) -> str:
        names = self.names()
        rows = []
        for program, size in zip(self.programs, self.roster_sizes(), strict=True):
            domain = program.slug.rsplit("-", 1)[-1] + ".example.org"
            taken = set(Clinician.objects.filter(program=program).values_list("email", flat=True))
            for _ in range(size):
                first, last = next(names)
                base = slugify(f"{first}.{last}").replace("-", ".")
                email, n = f"{base}@{domain}", 1
                while email in taken:
                    n += 1
                    email = f"{base}{n}@{domain}"
                taken.add(email)
                discipline = (
                    Discipline.PHYSICIAN if program.physicians_only else self.pick(DISCIPLINES)
                )
                rows.append(
                    Clinician(
                        program=program,
                        first_name=first,
                        last_name=last,
                        email=email,
                        discipline=discipline,
                        gender=self.pick(
                            [
                                (Gender.FEMALE, 55),
                                (Gender.MALE, 40),
                                (Gender.NONBINARY, 2),
                                (Gender.UNDISCLOSED, 3),
                            ]
                        ),
                        years_at_institution=self.rng.choice([1, 2, 3, 4, 6, 8, 9, 12, 15, 22]),
                        patient_care_halfdays=self.rng.choice([3, 4, 5, 6, 7, 8, 9]),
                        status=self.pick(
                            [
                                (Clinician.Status.ELIGIBLE, 55),
                                (Clinician.Status.INVITED, 25),
                                (Clinician.Status.INACTIVE, 5),
                                (Clinician.Status.ACTIVE, 15),
                            ]
                        ),
                    )  # fmt: skip
                )
        Clinician.objects.bulk_create(rows, batch_size=BATCH)
        for program in self.programs:
            program.eligible_clinicians = Clinician.objects.filter(program=program).count()
        Program.objects.bulk_update(self.programs, ["eligible_clinicians"])
        return f"{len(rows)} clinicians added, {Clinician.objects.count()} in all"

    # -- groups, facilitators, memberships, the demo users' roles --------------------------------

    def make_groups(self) -> str:
        today = self.programs[0].today()
        demo = self.programs[0]
        # The demo's three groups: they keep their monthly sessions and meet on the fourth
        # Tuesday too, for the same year as the demo's other groups.
        for group in Group.objects.filter(program=demo).order_by("name"):
            first = _nth_weekday(today - timedelta(days=DEMO_YEAR_DAYS), weekday=1, nth=4)
            self.plans.append(Plan(group, first, DEMO_FOURTH_TUESDAYS, time(7, 30)))
        new_groups: list[tuple[Program, Group, Room]] = []
        room_no = Room.objects.count()
        for index, program in enumerate(self.programs):
            existing = Group.objects.filter(program=program).count()
            for n in range(self.groups_of(index)):
                room_no += 1
                room = Room(
                    program=program, name=f"Seminar room {room_no}",
                    location=f"Education centre, floor {1 + room_no % 6}", capacity=14,
                )  # fmt: skip
                group = Group(program=program, name=f"Group {existing + n + 1}")
                new_groups.append((program, group, room))
        Room.objects.bulk_create([r for _, _, r in new_groups], batch_size=BATCH)
        for _, group, room in new_groups:
            group.default_room = room
        Group.objects.bulk_create([g for _, g, _ in new_groups], batch_size=BATCH)
        demo_sessions = max(1, DEMO_YEAR_DAYS * 2 // SESSION_GAP_DAYS)
        demo_groups = [g for p, g, _ in new_groups if p.pk == demo.pk]
        other_groups = [(p, g) for p, g, _ in new_groups if p.pk != demo.pk]
        for group in demo_groups:
            first = today - timedelta(days=DEMO_YEAR_DAYS + self.rng.randrange(14))
            self.plans.append(Plan(group, first, demo_sessions, self.rng.choice(MEETING_TIMES)))
        # The other programs' groups share what is left of the sessions; they started at
        # different times over the last three years, about half of them have ended.
        planned = (
            Session.objects.count() + demo_sessions * len(demo_groups) + DEMO_FOURTH_TUESDAYS * 3
        )
        left = max(len(other_groups), self.size.sessions - planned)
        first_of_program: set[int] = set()
        for i, (program, group) in enumerate(other_groups):
            count = max(1, left // len(other_groups) + (1 if i < left % len(other_groups) else 0))
            span = SESSION_GAP_DAYS * (count - 1)
            if program.pk not in first_of_program:
                # Each program's first group is still meeting: half its sessions to come.
                first_of_program.add(program.pk)
                start = today - timedelta(days=span // 2 + self.rng.randrange(14))
            else:
                latest = max(0, HISTORY_DAYS - span // 2)
                start = today - timedelta(days=HISTORY_DAYS - self.rng.randrange(latest + 1))
            self.plans.append(Plan(group, start, count, self.rng.choice(MEETING_TIMES)))
        return f"{len(new_groups)} groups added, {Group.objects.count()} in all"

    def make_people(self) -> str:
        """Facilitators, memberships, accounts and roles."""
        program_of = {p.pk: p for p in self.programs}
        today = self.programs[0].today()
        free: dict[int, list[Clinician]] = {}
        for program in self.programs:
            people = list(
                Clinician.objects.filter(program=program, memberships__isnull=True)
                .exclude(status=Clinician.Status.INACTIVE)
                .order_by("pk")
            )
            self.rng.shuffle(people)
            free[program.pk] = people
        pools: dict[int, list[Facilitator]] = {}
        facilitators = []
        names = self.names()
        for program in self.programs[1:]:
            n_groups = sum(1 for p in self.plans if p.group.program_id == program.pk)
            for k in range(n_groups * 2 + 1):
                first, last = next(names)
                facilitators.append(
                    Facilitator(
                        program=program,
                        name=f"Dr. {first} {last}",
                        email=f"{slugify(first)}.{slugify(last)}.f{k}@"
                        f"{program.slug.rsplit('-', 1)[-1]}.example.org",
                        background=self.pick(
                            [
                                (Facilitator.Background.CLINICIAN_EDUCATOR, 60),
                                (Facilitator.Background.PSYCHOLOGIST, 20),
                                (Facilitator.Background.PSYCHIATRIST, 10),
                                (Facilitator.Background.CLINICIAN_INVESTIGATOR, 10),
                            ]
                        ),
                    )  # fmt: skip
                )
        Facilitator.objects.bulk_create(facilitators, batch_size=BATCH)
        for f in Facilitator.objects.order_by("pk"):
            pools.setdefault(f.program_id, []).append(f)
        demo_pool = pools[self.programs[0].pk]
        # The demo's existing groups keep their members and facilitators.
        for plan in self.plans[:3]:
            plan.members = list(
                Clinician.objects.filter(
                    memberships__group=plan.group, memberships__left_on__isnull=True
                ).order_by("pk")
            )
            for a in FacilitatorAssignment.objects.filter(group=plan.group).select_related(
                "facilitator"
            ):
                setattr(plan, a.role, a.facilitator)
        memberships, assignments, status = [], [], []
        for i, plan in enumerate(self.plans[3:]):
            program = program_of[plan.group.program_id]
            people = free[program.pk]
            size = min(len(people), self.rng.randint(*GROUP_SIZE))
            plan.members, free[program.pk] = people[:size], people[size:]
            ended = plan.last < today
            for c in plan.members:
                memberships.append(
                    GroupMembership(
                        group=plan.group, clinician=c, joined_on=plan.first,
                        left_on=plan.last if ended else None,
                    )
                )  # fmt: skip
                c.status = Clinician.Status.ELIGIBLE if ended else Clinician.Status.ACTIVE
                status.append(c)
            if program.pk == self.programs[0].pk:
                # The demo's pool of six takes turns (the facilitator leads every sixth group).
                n = len(demo_pool)
                plan.lead, plan.backup = demo_pool[i % n], demo_pool[(i + n // 2) % n]
            else:
                plan.lead, plan.backup = self.rng.sample(pools[program.pk], 2)
            for role, f in (("lead", plan.lead), ("backup", plan.backup)):
                assignments.append(
                    FacilitatorAssignment(
                        group=plan.group, facilitator=f, role=role, starts_on=plan.first,
                        ends_on=plan.last if ended else None,
                    )
                )  # fmt: skip
        GroupMembership.objects.bulk_create(memberships, batch_size=BATCH)
        FacilitatorAssignment.objects.bulk_create(assignments, batch_size=BATCH)
        Clinician.objects.bulk_update(status, ["status"], batch_size=BATCH)
        self.roles()
        return (
            f"{len(facilitators)} facilitators, {len(memberships)} memberships, "
            f"{self.User.objects.count()} accounts"
        )

    def roles(self) -> None:
        """Accounts for each program's coordinator and for a part of its people; the demo
        users' roles across programs."""
        users = {u.username: u for u in self.User.objects.filter(username__in=DEMO_USERS)}
        others = self.programs[1:]
        accounts = []
        for program in others:
            accounts.append(
                self.User(
                    username=f"coord-{program.slug}",
                    first_name="Coordinator",
                    last_name=program.department,
                    email=f"coord-{program.slug}@example.org",
                )  # fmt: skip
            )
        current = [p for p in self.plans[3:] if p.last >= self.programs[0].today()]
        linked: list[Clinician] = []
        for plan in current:
            for c in plan.members:
                if self.rng.random() < 0.4:
                    accounts.append(
                        self.User(
                            username=f"c{c.pk}",
                            first_name=c.first_name,
                            last_name=c.last_name,
                            email=c.email,
                        )
                    )
                    linked.append(c)
        for u in accounts:
            u.set_unusable_password()
        self.User.objects.bulk_create(accounts, batch_size=BATCH)
        names = [a.username for a in accounts]
        by_name = {u.username: u for u in self.User.objects.filter(username__in=names)}
        for c in linked:
            c.user = by_name[f"c{c.pk}"]
        Clinician.objects.bulk_update(linked, ["user"], batch_size=BATCH)
        roles = [
            ProgramRole(program=p, user=by_name[f"coord-{p.slug}"], role="coordinator")
            for p in others
        ]
        coordinated = others[: max(0, min(len(others), self.size.coordinator_programs - 1))]
        roles += [ProgramRole(program=p, user=users["coordinator"], role="coordinator")
                  for p in coordinated]  # fmt: skip
        roles += [ProgramRole(program=p, user=users["reports"], role="report_viewer")
                  for p in others]  # fmt: skip
        ProgramRole.objects.bulk_create(roles, batch_size=BATCH)
        # The facilitator leads, and the participant is a member, in two more programs each:
        # in the first current group of those programs.
        firsts: dict[int, Plan] = {}
        for plan in current:
            if plan.group.program_id != self.programs[0].pk:
                firsts.setdefault(plan.group.program_id, plan)
        chosen = list(firsts.values())[: ROLE_PROGRAMS - 1]
        helen, member = users["facilitator"], users["participant"]
        for plan in chosen:
            plan.lead.user = helen
            plan.lead.name = f"Dr. {helen.first_name} {helen.last_name}"
            plan.lead.save(update_fields=["user", "name"])
            # Their roster entry in that program: the one member whose place they take.
            c = plan.members[0]
            c.user, c.first_name, c.last_name = member, member.first_name, member.last_name
            c.save(update_fields=["user", "first_name", "last_name"])

    # -- sessions and what happens in them ------------------------------------------------------

    def make_sessions(self) -> str:
        program_of = {p.pk: p for p in self.programs}
        agendas = {p.pk: list(agenda_for_program(p).segments.all()) for p in self.programs}
        agenda_names = {p.pk: agenda_for_program(p).name for p in self.programs}
        rows: list[Session] = []
        for plan in self.plans:
            program = program_of[plan.group.program_id]
            day = plan.first
            for k in range(plan.count):
                if plan in self.plans[:3]:
                    day = _nth_weekday(_add_months(plan.first, k), weekday=1, nth=4)
                else:
                    day = plan.first + timedelta(days=SESSION_GAP_DAYS * k)
                cancelled = self.rng.random() < CANCELLED_SHARE
                rows.append(
                    Session(
                        group=plan.group, starts_at=program.at(day, plan.clock),
                        duration_minutes=program.session_minutes, room=plan.group.default_room,
                        status=Session.Status.CANCELLED if cancelled else Session.Status.SCHEDULED,
                        cancel_reason=self.rng.choice(CANCEL_REASONS) if cancelled else "",
                        presenter_slots=program.presenter_slots,
                        agenda_name=agenda_names[program.pk], uid=self.uid(),
                    )
                )  # fmt: skip
        Session.objects.bulk_create(rows, batch_size=BATCH)
        made = Session.objects.filter(uid__in=[s.uid for s in rows]).order_by("pk")
        segments, bookings = [], []
        for s in made.select_related("group"):
            for seg in agendas[s.group.program_id]:
                segments.append(
                    SessionSegment(session=s, start_minute=seg.start_minute, title=seg.title,
                                   guidance=seg.guidance)
                )  # fmt: skip
            if s.room_id and s.status == Session.Status.SCHEDULED:
                for m in range(0, s.duration_minutes, SLOT_MINUTES):
                    bookings.append(
                        RoomBooking(room_id=s.room_id, session=s,
                                    slot_start=s.starts_at + timedelta(minutes=m))
                    )  # fmt: skip
        SessionSegment.objects.bulk_create(segments, batch_size=BATCH)
        RoomBooking.objects.bulk_create(bookings, batch_size=BATCH)
        return f"{len(rows)} added, {Session.objects.count()} in all, {len(bookings)} bookings"

    def make_participation(self) -> str:
        """RSVPs, attendance, presentations, case notes, take-home points and absences."""
        rsvps, attendance, presentations = [], [], []
        take_home, absences = [], []
        taken_rsvp = set(Rsvp.objects.values_list("session_id", "clinician_id"))
        taken_att = set(Attendance.objects.values_list("session_id"))
        taken_pres = set(Presentation.objects.values_list("session_id", flat=True))
        for plan in self.plans:
            members = plan.members
            if not members:
                continue
            keen = {c.pk: self.rng.choice([0.3, 0.6, 0.8, 0.9, 0.95]) for c in members}
            sessions = list(Session.objects.filter(group=plan.group).order_by("starts_at"))
            upcoming_seen = 0
            for s in sessions:
                held = s.starts_at <= self.now
                if s.status == Session.Status.CANCELLED:
                    continue
                if not held:
                    upcoming_seen += 1
                share = 0.6 if held else (0.75 if upcoming_seen <= 4 else 0.15)
                for c in members:
                    if (s.pk, c.pk) not in taken_rsvp and self.rng.random() < share:
                        going = self.rng.random() < keen[c.pk] + 0.05
                        rsvps.append(Rsvp(session=s, clinician=c,
                                          answer="going" if going else "not_going"))  # fmt: skip
                present_by = None
                if s.pk not in taken_pres and (held or upcoming_seen <= 3
                                               or self.rng.random() < 0.3):  # fmt: skip
                    order = self.rng.sample(members, min(len(members), s.presenter_slots + 1))
                    for slot, c in enumerate(order[: s.presenter_slots], start=1):
                        presentations.append(
                            Presentation(session=s, clinician=c, slot=slot, status="confirmed",
                                         working_title=self.rng.choice(WORKING_TITLES))
                        )  # fmt: skip
                        present_by = c
                    if not held and upcoming_seen <= 2 and len(order) > s.presenter_slots:
                        presentations.append(
                            Presentation(session=s, clinician=order[-1], status="waitlisted",
                                         working_title=self.rng.choice(WORKING_TITLES))
                        )  # fmt: skip
                if held and (s.pk,) not in taken_att:
                    for c in members:
                        came = c is present_by or self.rng.random() < keen[c.pk]
                        status = "present" if came else self.pick([("absent", 2), ("excused", 3)])
                        attendance.append(Attendance(session=s, clinician=c, status=status))
                    for _ in range(self.pick([(0, 5), (1, 3), (2, 2)])):
                        take_home.append(TakeHomePoint(session=s, text=self.rng.choice(TAKE_HOME)))
                if plan.lead and self.rng.random() < 0.02:
                    absences.append(FacilitatorAbsence(session=s, facilitator=plan.lead,
                                                       reason="Clinic duty"))  # fmt: skip
        Rsvp.objects.bulk_create(rsvps, batch_size=BATCH)
        Attendance.objects.bulk_create(attendance, batch_size=BATCH)
        Presentation.objects.bulk_create(presentations, batch_size=BATCH)
        TakeHomePoint.objects.bulk_create(take_home, batch_size=BATCH)
        FacilitatorAbsence.objects.bulk_create(absences, batch_size=BATCH)
        notes = self.case_notes(p for p in presentations if p.status == "confirmed")
        return (
            f"{len(rsvps)} RSVPs, {len(attendance)} attendance, {len(presentations)} "
            f"presentations, {notes} case notes"
        )

    def case_notes(self, presentations: Iterable[Presentation]) -> int:
        """A note for about half the presentations: destroyed after the retention period,
        readable (encrypted by the model field) for the sessions of the last week and to come."""
        rows = []
        ids = [p.pk for p in presentations if self.rng.random() < 0.5]
        for p in Presentation.objects.filter(pk__in=ids).select_related("session__group__program"):
            s = p.session
            destroy_after = s.ends_at + timedelta(days=s.group.program.case_note_retention_days)
            note = CaseNote(
                presentation=p, patient_age=self.rng.randint(19, 94),
                patient_gender=self.rng.choice(["female", "male"]),
                visibility=self.pick([("facilitators", 6), ("group", 3), ("presenter", 1)]),
                destroy_after=destroy_after,
            )  # fmt: skip
            if destroy_after < self.now:
                note.destroyed_at = destroy_after + timedelta(minutes=30)
            else:
                note.patient_name = self.rng.choice(["J.", "M. K.", "R."])
                note.difficulty = self.rng.choice(CASE_DIFFICULTIES)
                note.relationship = "I have seen them for six years."
                note.wish = self.rng.choice(CASE_WISHES)
            rows.append(note)
        CaseNote.objects.bulk_create(rows, batch_size=BATCH)
        return len(rows)

    # -- surveys ---------------------------------------------------------------------------

    def make_waves(self) -> str:
        instrument = builtin_instrument()
        specs = question_specs(instrument)
        demo = self.programs[0]
        group_names = {
            p.pk: sorted(Group.objects.filter(program=p).values_list("name", flat=True))
            for p in self.programs
        }
        group_of = dict(
            GroupMembership.objects.current().values_list("clinician_id", "group__name")
        )
        existing = Response.objects.count()
        waves_left = max(len(self.programs) - 1, self.size.waves - Wave.objects.count() - 2)
        responses_left = max(
            waves_left,
            self.size.responses - existing - self.size.demo_paper_responses
            - self.size.demo_online_responses,
        )  # fmt: skip
        made = 0

        def answers(wave: Wave, c: Clinician, labels: list[str] | None) -> dict:
            """``c``'s answers; on paper, where forms carry a group label of their own, the
            people not in a group write one of the program's groups."""
            label = group_of.get(c.pk, "")
            if not label and labels is None:
                label = self.rng.choice(group_names[wave.program_id] or [""])
            return answers_clean(specs, answers_for(self.rng, c, label), group_labels=labels)

        def online(
            program: Program,
            *,
            name: str,
            opens: datetime,
            closes: datetime,
            people: list[Clinician],
            answered: int,
            confidential: bool,
        ) -> Wave:
            nonlocal made
            wave = Wave.objects.create(
                program=program, instrument=instrument, name=name, slug=slugify(name)[:60],
                source=Wave.Source.ONLINE, audience=Wave.Audience.ALL_ACTIVE,
                mode=Wave.Mode.CONFIDENTIAL if confidential else Wave.Mode.ANONYMOUS,
                opens_at=opens, closes_at=closes,
            )  # fmt: skip
            recipients = []
            for c in people:
                r = WaveRecipient(wave=wave, clinician=c, email=c.email,
                                  nonce=secrets.token_hex(16))  # fmt: skip
                r.token_hash = token_hash(link_token(r))
                recipients.append(r)
            WaveRecipient.objects.bulk_create(recipients, batch_size=BATCH)
            recipients = list(WaveRecipient.objects.filter(wave=wave).order_by("pk"))
            by_pk = {c.pk: c for c in people}
            labels = group_names[program.pk]
            respondents = self.rng.sample(recipients, min(answered, len(recipients)))
            rows = []
            for r in respondents:
                when = opens + timedelta(
                    hours=self.rng.randrange(
                        1, max(2, int((min(closes, self.now) - opens).total_seconds() // 3600))
                    )
                )
                r.responded = True
                if confidential:
                    r.responded_at = when
                rows.append(Response(
                    wave=wave, source=Response.Source.ONLINE,
                    recipient=r if confidential else None,
                    answers=answers(wave, by_pk[r.clinician_id], labels),
                    submitted_at=when if confidential else _day(when),
                ))  # fmt: skip
            if not confidential:
                self.rng.shuffle(rows)  # stored order says nothing about who answered when
            WaveRecipient.objects.bulk_update(respondents, ["responded", "responded_at"],
                                              batch_size=BATCH)  # fmt: skip
            Response.objects.bulk_create(rows, batch_size=BATCH)
            made += len(rows)
            return wave

        def paper(program: Program, *, name: str, handed_out: datetime, count: int) -> Wave:
            nonlocal made
            wave = Wave.objects.create(
                program=program, instrument=instrument, name=name, slug=slugify(name)[:60],
                source=Wave.Source.PAPER, opens_at=handed_out,
                distributed_count=round(count * 1.2) + 1,
            )  # fmt: skip
            people = everyone[program.pk]
            rows = [
                Response(
                    wave=wave, source=Response.Source.PAPER, form_id=str(n + 1),
                    answers=answers(wave, self.rng.choice(people), None),
                    submitted_at=handed_out + timedelta(days=1 + n % 20),
                    excluded_reason="Damaged paper form"
                    if self.rng.random() < PAPER_EXCLUDED_SHARE else "",
                )
                for n in range(count)
            ]  # fmt: skip
            Response.objects.bulk_create(rows, batch_size=BATCH)
            made += len(rows)
            return wave

        everyone = {
            p.pk: list(Clinician.objects.filter(program=p)
                       .exclude(status=Clinician.Status.INACTIVE).order_by("pk"))
            for p in self.programs
        }  # fmt: skip
        roster = everyone[demo.pk][: self.size.demo_online_recipients]
        self.big_waves = [
            online(demo, name=ONLINE_WAVE, opens=self.now - timedelta(60),
                   closes=self.now - timedelta(30), people=roster,
                   answered=self.size.demo_online_responses, confidential=False),
            paper(demo, name=PAPER_WAVE, handed_out=self.now - timedelta(90),
                  count=self.size.demo_paper_responses),
        ]  # fmt: skip
        others = self.programs[1:]
        per_wave = [responses_left // waves_left + (1 if i < responses_left % waves_left else 0)
                    for i in range(waves_left)]  # fmt: skip
        seen: dict[int, int] = {}
        for i, count in enumerate(per_wave):
            program = others[i % len(others)]
            k = seen[program.pk] = seen.get(program.pk, 0) + 1
            # Waves go back in time from the newest; the newest of each program is open.
            opens = self.now - timedelta(days=5 + (k - 1) * 120 + self.rng.randrange(20))
            name = f"Survey {k} ({opens:%B %Y})"
            people = everyone[program.pk]
            if k % 3 == 0 or count > len(people):
                paper(program, name=name + " paper", handed_out=opens, count=count)
            else:
                closes = opens + timedelta(days=21 if k > 1 else 30)
                online(program, name=name, opens=opens, closes=closes, people=people,
                       answered=count, confidential=self.rng.random() < 0.2)  # fmt: skip
        # Bulk inserts skip the app's writes of each wave's running digest: make them now, as
        # the first view of a wave's figures would.
        for wave_id in Wave.objects.values_list("pk", flat=True):
            responses_changed(wave_id=wave_id)
        return f"{Wave.objects.count()} waves, {made} responses added, " \
               f"{Response.objects.count()} in all"  # fmt: skip

    def make_analysis(self) -> str:
        coordinator = self.User.objects.get(username="coordinator")
        done = []
        for wave in self.big_waves:
            run = run_execute(run_create(wave=wave, actor=coordinator).pk)
            if run.status != AnalysisRun.Status.DONE:
                raise RuntimeError(f"The analysis of wave {wave.pk} failed: {run.error}")
            done.append(f"{wave.responses.count()} responses in {run.timings['total']:.1f} s")
        return "; ".join(done)

    # -- outbox ----------------------------------------------------------------------------

    def make_outbox(self) -> str:
        target = max(0, self.size.outbox - OutboxMessage.objects.count())
        group_plan = {p.group.pk: p for p in self.plans}
        taken = set(
            OutboxMessage.objects.values_list(
                "kind", "object_id", "recipient_type", "recipient_id", "occurrence"
            )
        )
        candidates: list[tuple[Any, ...]] = []
        sessions = list(Session.objects.filter(group_id__in=group_plan).order_by("pk"))
        # The next-meeting note names the group's next session in its occurrence.
        following: dict[int, int] = {}
        by_group = sorted(sessions, key=lambda s: (s.group_id, s.starts_at))
        for s, after in zip(by_group, by_group[1:], strict=False):
            if after.group_id == s.group_id:
                following[s.pk] = after.pk
        presenters = dict(
            Presentation.objects.filter(status="confirmed", slot=1).values_list(
                "session_id", "clinician_id"
            )
        )
        for s in sessions:
            plan = group_plan[s.group_id]
            occ = occurrence_of(s)
            pid = plan.group.program_id
            due = s.starts_at - timedelta(days=7)
            for c in plan.members:
                candidates.append((pid, reminder_kinds.SESSION_REMINDER, s.pk, "clinician",
                                   c.pk, c.email, occ, due))  # fmt: skip
                if s.starts_at < self.now and s.pk in following:
                    candidates.append((pid, reminder_kinds.NEXT_MEETING, s.pk, "clinician", c.pk,
                                       c.email, f"next:{following[s.pk]}", s.ends_at))  # fmt: skip
            for f in (plan.lead, plan.backup):
                if f is not None:
                    candidates.append((pid, reminder_kinds.SESSION_REMINDER, s.pk, "facilitator",
                                       f.pk, f.email, occ, due))  # fmt: skip
            if s.pk in presenters:
                c_pk = presenters[s.pk]
                email = next((c.email for c in plan.members if c.pk == c_pk), "")
                if email:
                    due = s.starts_at - timedelta(days=3)
                    candidates.append((pid, reminder_kinds.PRESENTER_REMINDER, s.pk, "clinician",
                                       c_pk, email, occ, due))  # fmt: skip
        for r in WaveRecipient.objects.select_related("wave").order_by("pk"):
            w = r.wave
            candidates.append((w.program_id, SURVEY_INVITATION, w.pk, "clinician",
                               r.clinician_id, r.email, "invite", w.opens_at))  # fmt: skip
            if not r.responded and w.closes_at:
                candidates.append((w.program_id, SURVEY_REMINDER, w.pk, "clinician",
                                   r.clinician_id, r.email, "reminder",
                                   w.closes_at - timedelta(days=w.reminder_days)))  # fmt: skip
        candidates = [c for c in candidates if c[1:5] + (c[6],) not in taken]
        chosen = self.rng.sample(candidates, min(target, len(candidates)))
        chosen.sort(key=lambda c: (c[7], c[2], c[4]))
        rows = []
        for pid, kind, obj, rtype, rid, email, occ, due in chosen:
            row = OutboxMessage(
                program_id=pid, kind=kind, object_id=obj, recipient_type=rtype,
                recipient_id=rid, email=email, occurrence=occ, due_at=due,
            )  # fmt: skip
            if due > self.now:
                row.status = OutboxMessage.Status.PENDING
            else:
                row.status = self.pick([(OutboxMessage.Status.SENT, 90),
                                        (OutboxMessage.Status.FAILED, 4),
                                        (OutboxMessage.Status.SKIPPED, 4),
                                        (OutboxMessage.Status.PENDING, 2)])  # fmt: skip
                row.enqueued_at = due
                if row.status == OutboxMessage.Status.SENT:
                    row.attempts = 1
                    row.claimed_at = due + timedelta(seconds=2)
                    row.sent_at = due + timedelta(seconds=3)
                elif row.status == OutboxMessage.Status.FAILED:
                    row.attempts = 5
                    row.claimed_at = due + timedelta(hours=2)
                    row.last_error = self.rng.choice(
                        ["SMTPRecipientsRefused 550", "SMTPServerDisconnected", "TimeoutError"]
                    )
                elif row.status == OutboxMessage.Status.SKIPPED:
                    row.skip_reason = self.rng.choice(
                        ["Opted out of optional messages", "No longer a member of the group",
                         "The session was cancelled"]
                    )  # fmt: skip
            rows.append(row)
        OutboxMessage.objects.bulk_create(rows, batch_size=BATCH)
        by_status = dict(OutboxMessage.objects.values_list("status").annotate(n=models.Count("pk")))
        return f"{len(rows)} rows: " + ", ".join(f"{k} {v}" for k, v in sorted(by_status.items()))

    # -- audit trail -------------------------------------------------------------------------

    def make_audit(self) -> str:
        """Events over three years, appended to the hash chain as the app appends them
        (``AuditEventQuerySet._link``), with their own times instead of now."""
        target = max(0, self.size.audit - AuditEvent.objects.count())
        actors = list(
            self.User.objects.filter(
                models.Q(program_roles__isnull=False) | models.Q(username__in=DEMO_USERS)
            )
            .distinct()
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        programs = [p.pk for p in self.programs]
        session_ids = list(Session.objects.order_by("pk").values_list("pk", "group__program_id"))
        clinician_ids = list(Clinician.objects.order_by("pk").values_list("pk", "program_id"))
        actions: list[tuple[str, str, list[tuple[int, int]], int]] = [
            ("signin", "", [], 30),
            ("signout", "", [], 10),
            ("rsvp.set", "sessions_app.session", session_ids, 20),
            ("attendance.record", "sessions_app.session", session_ids, 10),
            ("presenter.volunteer", "sessions_app.session", session_ids, 5),
            ("casenote.read", "sessions_app.session", session_ids, 5),
            ("clinician.update", "sessions_app.clinician", clinician_ids, 8),
            ("session.reschedule", "sessions_app.session", session_ids, 3),
            ("roster.export", "", [], 2),
            ("outbox.resend", "", [], 1),
            ("survey.paper_entry", "", [], 3),
            ("export.download", "", [], 3),
        ]
        start = self.now - timedelta(days=HISTORY_DAYS)
        step = (self.now - timedelta(hours=1) - start) / max(1, target)
        written = 0
        qs = AuditEvent.objects.all()
        with transaction.atomic():
            if connection.vendor == "postgresql":
                from ccdg.models import CHAIN_LOCK

                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])
            head = (
                AuditEvent._base_manager.order_by("-chain_seq")
                .values_list("chain_seq", "chain_hash")
                .first()
            )
            seq, prev = head or (0, GENESIS)
            while written < target:
                batch = []
                for _ in range(min(BATCH * 5, target - written)):
                    action, otype, objects, _w = self.pick([(a, a[3]) for a in actions])
                    program_id: int | None = self.rng.choice(programs)
                    obj_id = ""
                    data: dict[str, Any] = {}
                    if objects:
                        pk, program_id = self.rng.choice(objects)
                        obj_id = str(pk)
                    if action == "clinician.update":
                        data = {"fields": sorted(self.rng.sample(FIELD_NAMES, 2))}
                    elif action == "rsvp.set":
                        data = {"answer": self.rng.choice(["going", "not_going"])}
                    elif action.startswith("sign"):
                        program_id = None
                    event = AuditEvent(
                        actor_id=self.rng.choice(actors), action=action, program_id=program_id,
                        object_type=otype, object_id=obj_id, data=data,
                        ip_address=f"{self.rng.choice(IP_PREFIXES)}.{self.rng.randrange(256)}."
                        f"{self.rng.randrange(1, 255)}",
                    )  # fmt: skip
                    event.normalise()
                    seq += 1
                    event.created_at = start + step * written
                    event.chain_seq, event.chain_prev = seq, prev
                    event.chain_hash = prev = chain_digest(event.chain_document())
                    batch.append(event)
                    written += 1
                # The chain is computed above: the plain bulk insert, not the queryset's own
                # bulk_create (which would stamp every event with the time of this run).
                models.QuerySet.bulk_create(qs, batch, batch_size=BATCH)
        return f"{written} added, {AuditEvent.objects.count()} in all"

    # -- all of it ---------------------------------------------------------------------------

    def run(self) -> dict[str, int]:
        self.step("demo", self.demo)
        self.step("programs", self.make_programs)
        self.step("rosters", self.make_rosters)
        self.step("groups", self.make_groups)
        self.step("people and roles", self.make_people)
        self.step("sessions", self.make_sessions)
        self.step("participation", self.make_participation)
        self.step("waves and responses", self.make_waves)
        if self.analyse:
            self.step("analysis runs", self.make_analysis)
        self.step("outbox", self.make_outbox)
        self.step("audit trail", self.make_audit)
        return counts()


def counts() -> dict[str, int]:
    """How many rows of each kind the database holds."""
    tables: dict[str, Any] = {
        "programs": Program,
        "users": get_user_model(),
        "clinicians": Clinician,
        "facilitators": Facilitator,
        "groups": Group,
        "memberships": GroupMembership,
        "rooms": Room,
        "sessions": Session,
        "room_bookings": RoomBooking,
        "rsvps": Rsvp,
        "attendance": Attendance,
        "presentations": Presentation,
        "case_notes": CaseNote,
        "waves": Wave,
        "wave_recipients": WaveRecipient,
        "responses": Response,
        "analysis_runs": AnalysisRun,
        "outbox": OutboxMessage,
        "audit_events": AuditEvent,
    }
    return {name: model._base_manager.count() for name, model in tables.items()}


def database_in_use() -> list[str]:
    """What the database already holds beyond a migrated schema (empty when nothing)."""
    found = []
    for label, model in (
        ("user accounts", get_user_model()),
        ("programs", Program),
        ("audit events", AuditEvent),
        ("survey waves", Wave),
        ("outbox messages", OutboxMessage),
    ):
        n = model._base_manager.count()
        if n:
            found.append(f"{n} {label}")
    return found


def build(
    *, scale: float = 1.0, seed: int = SEED, stdout: TextIO | None = None, analyse: bool = True
) -> dict[str, int]:
    """Fill an empty migrated database with scale data; returns the row counts.

    ``analyse=False`` leaves out the analysis runs of the two large waves (about half the
    time at scale 0.1 on SQLite). Raises :class:`ScaleDataRefused` (and writes nothing) when
    the database holds data.
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    in_use = database_in_use()
    if in_use:
        raise ScaleDataRefused(
            "Refused: the database already holds data (" + ", ".join(in_use) + "). Scale data "
            "goes only into an empty migrated database: create a new one (or drop and "
            "migrate a throwaway one) and run again. Nothing was written."
        )
    out = stdout if stdout is not None else io.StringIO()
    return Builder(scale=scale, seed=seed, stdout=out, analyse=analyse).run()


def _nth_weekday(day: date, *, weekday: int, nth: int) -> date:
    """The ``nth`` ``weekday`` (0 Monday) of ``day``'s month."""
    first = day.replace(day=1)
    offset = (weekday - first.weekday()) % 7
    return first + timedelta(days=offset + 7 * (nth - 1))


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def _day(moment: datetime) -> datetime:
    """Anonymous online responses keep the day only (midnight UTC)."""
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: about 100x the demo")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--migrate", action="store_true", help="migrate the database first")
    parser.add_argument(
        "--no-analysis", action="store_true", help="leave out the analysis runs of the large waves"
    )
    args = parser.parse_args(argv)
    if args.migrate:
        call_command("migrate", verbosity=0)
    db = connection.settings_dict
    print(f"Scale data x{args.scale} (seed {args.seed}) into {connection.vendor} {db['NAME']}")
    started = clock.perf_counter()
    try:
        made = build(
            scale=args.scale, seed=args.seed, stdout=sys.stdout, analyse=not args.no_analysis
        )
    except ScaleDataRefused as exc:
        print(exc, file=sys.stderr)
        return 2
    total = clock.perf_counter() - started
    for name, n in made.items():
        print(f"  {name:<18} {n:>9,}")
    print(f"Done in {total:.0f} s.")
    report = audit_chain_verify()
    print(f"Audit chain: {report.checked:,} events checked, " + (
        "intact." if report.ok else f"BROKEN at {report.problem.summary()}."
    ))  # fmt: skip
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            print(f"Database size: {cursor.fetchone()[0]}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
