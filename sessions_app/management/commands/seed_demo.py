"""python manage.py seed_demo: a demo program shaped like the reference one.

66 eligible clinicians (57 physicians, 6 nurse practitioners, a social worker, a clinical
pharmacist and a psychologist), 30 active participants in 3 groups, 6 facilitators (4
clinician-educators, a psychologist, a clinician-investigator), and the demo sign-ins.
The year: 3 rooms and 7 monthly sessions per group (second Tuesday, 07:30), the first ones
already held (with presenters and attendance), the next ones with volunteers, a waitlist and
RSVPs. Running it again changes nothing that is already there.

Debug mode (``make run``) gives every demo sign-in the published password ``ccdg-demo``.
Outside debug mode the demo must never meet real accounts, or bring a password everyone knows:
``--force`` runs only on a database without any user account, and each demo sign-in gets its
own random password, valid under the password rules, printed once and stored nowhere else.
"""

from __future__ import annotations

import random
import secrets
import string
import uuid
from datetime import date, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import (
    MinimumLengthValidator,
    get_default_password_validators,
    validate_password,
)
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from sessions_app.groups import services as groups_services
from sessions_app.groups.models import (
    Facilitator,
    FacilitatorAssignment,
    Group,
    GroupMembership,
    current_membership_q,
)
from sessions_app.groups.solver.assignment import Infeasible
from sessions_app.presenters import services as presenters_services
from sessions_app.presenters.models import Attendance, Presentation, Rsvp
from sessions_app.programs.models import Program, ProgramRole
from sessions_app.roster.models import Clinician, Discipline, Gender
from sessions_app.schedule import services as schedule_services
from sessions_app.schedule.models import Room, Session
from surveys.demo import demo_waves
from surveys.models import Wave
from surveys.waves import figures, waves_with_figures

DEMO_PASSWORD = "ccdg-demo"  # noqa: S105 - published demo password, debug mode only
# Outside debug mode: random passwords of letters and digits (24 characters: about 140 bits),
# longer when the password rules ask for more.
RANDOM_PASSWORD_LENGTH = 24
PASSWORD_ALPHABET = string.ascii_letters + string.digits
DEMO_SLUG = "gim-ccdg"
EMAIL_DOMAIN = "example.org"

FIRST_NAMES = [
    "Amara",
    "Ben",
    "Carmen",
    "David",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jamal",
    "Kavya",
    "Liam",
    "Maya",
    "Nikhil",
    "Olga",
    "Pedro",
    "Quinn",
    "Rosa",
    "Samuel",
    "Tara",
    "Umar",
    "Vera",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Aisha",
    "Bruno",
    "Chloe",
    "Dmitri",
    "Esther",
    "Felix",
    "Gloria",
    "Hassan",
    "Ivy",
    "Jonas",
    "Keiko",
    "Lucia",
    "Marcus",
    "Nadia",
]
LAST_NAMES = [
    "Abbott",
    "Baptiste",
    "Chen",
    "Delgado",
    "Eriksen",
    "Fofana",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Mensah",
    "Nguyen",
    "Okafor",
    "Patel",
    "Quiroga",
    "Rahman",
    "Silva",
    "Tanaka",
    "Usman",
    "Varga",
    "Weiss",
    "Xu",
    "Yamamoto",
    "Zeller",
    "Adeyemi",
    "Brennan",
    "Castillo",
    "Dubois",
    "Estrada",
    "Fischer",
    "Goldberg",
    "Horvath",
]
DISCIPLINE_COUNTS = [
    (Discipline.PHYSICIAN, 57),
    (Discipline.NURSE_PRACTITIONER, 6),
    (Discipline.SOCIAL_WORKER, 1),
    (Discipline.PHARMACIST, 1),
    (Discipline.PSYCHOLOGIST, 1),
]
FACILITATORS = [
    ("Dr. Helen Marsh", Facilitator.Background.CLINICIAN_EDUCATOR),
    ("Dr. Victor Osei", Facilitator.Background.CLINICIAN_EDUCATOR),
    ("Dr. Priya Raman", Facilitator.Background.CLINICIAN_EDUCATOR),
    ("Dr. Tomas Berg", Facilitator.Background.CLINICIAN_EDUCATOR),
    ("Dr. Ruth Adler", Facilitator.Background.PSYCHOLOGIST),
    ("Dr. Kenji Mori", Facilitator.Background.CLINICIAN_INVESTIGATOR),
]
GROUP_NAMES = ["Group 1", "Group 2", "Group 3"]
ACTIVE_PARTICIPANTS = 30
ROOMS = [
    ("Conference room A", "Medicine building, 2nd floor"),
    ("Conference room B", "Medicine building, 2nd floor"),
    ("Charting room 3", "Clinic wing, ground floor"),
]
SESSIONS_PER_GROUP = 7
PAST_SESSIONS = 3
WORKING_TITLES = [
    "The patient I dread seeing on my schedule",
    "When a family wants everything done",
    "A patient who reminds me of my father",
    "Feeling helpless with chronic pain",
    "The visit that always runs an hour late",
    "When I could not say no",
    "A patient who never takes my advice",
    "Anger in the exam room",
    "A goodbye I was not ready for",
]


class Command(BaseCommand):
    help = (
        "Create the demo program and demo sign-ins (idempotent in debug mode; outside it only "
        "with --force, on a database without users, with random passwords)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run with debug mode off: only on a database without any user account; each "
            "demo sign-in then gets a random password, printed once.",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already has a program (used by `make run`).",
        )

    def handle(self, *args, force, if_empty, **options):
        if not (settings.DEBUG or force):
            raise CommandError(
                "seed_demo creates demo accounts: it runs in debug mode (CCDG_DEBUG=1, as "
                "`make run` sets it), or with --force on a database without any user account."
            )
        if if_empty and Program.objects.exists():
            self.stdout.write("The database already has a program; demo data not loaded.")
            return
        self.passwords: dict[str, str] = {}
        with transaction.atomic():
            # Checked inside the transaction that creates the accounts.
            if not settings.DEBUG and get_user_model().objects.exists():
                raise CommandError(
                    "Refused: debug mode is off and the database already has user accounts. "
                    "Outside debug mode seed_demo --force runs only on a database without any "
                    "user, so that demo sign-ins never reach a database in use. Nothing was "
                    "created."
                )
            program = self._program()
            clinicians = self._roster(program)
            groups = self._groups(program, clinicians)
            self._facilitators(program, groups)
            self._sign_ins(program, clinicians)
            self._year(program, groups)
            # Later parts of the app add their own demo data here.
            demo_waves(program)
        ready = (
            f"Demo program “{program.name}” ready: {len(clinicians)} clinicians, "
            f"{len(groups)} groups."
        )
        if settings.DEBUG:
            self.stdout.write(
                self.style.SUCCESS(
                    f"{ready} Sign in as coordinator, facilitator, participant, reports or "
                    f"admin with the password {DEMO_PASSWORD}."
                )
            )
        else:
            self.stdout.write(self.style.SUCCESS(ready))
            self.stdout.write(
                "Debug mode is off: each demo sign-in has its own random password, shown only "
                "this once (change them, or deactivate the accounts, after the demonstration):"
            )
            for username, password in self.passwords.items():
                self.stdout.write(f"  {username:<12} password: {password}")
        self._print_waves(program)

    def _password_for(self, user) -> str:
        """The demo password in debug mode; otherwise a new random one that the password rules
        (``AUTH_PASSWORD_VALIDATORS``) accept, or the command stops and nothing is saved."""
        if settings.DEBUG:
            return DEMO_PASSWORD
        length = max(
            [RANDOM_PASSWORD_LENGTH]
            + [
                v.min_length
                for v in get_default_password_validators()
                if isinstance(v, MinimumLengthValidator)
            ]
        )
        password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError(
                "The password rules refused a random demo password: " + " ".join(exc.messages)
            ) from None
        self.passwords[user.username] = password
        return password

    def _print_waves(self, program: Program) -> None:
        waves = waves_with_figures(Wave.objects.filter(program=program).order_by("opens_at"))
        if waves:
            self.stdout.write("Survey waves:")
        for wave in waves:
            f = figures(wave)
            rate = f" ({f.rate:.0%})" if f.rate is not None else ""
            pilot = ", pilot" if wave.is_pilot else ""
            self.stdout.write(
                f"  {wave.name} [{wave.slug}, {wave.state()}{pilot}]: distributed "
                f"{f.distributed}, returned {f.returned}{rate}, analysed {f.analysed}"
            )

    def _program(self) -> Program:
        program, _ = Program.objects.get_or_create(
            slug=DEMO_SLUG,
            defaults={
                "name": "General Internal Medicine Case Discussion Groups",
                "department": "General Internal Medicine",
                "institution": "Riverside Community Hospital",
                "academic_year": "2026-2027",
                "timezone": "America/New_York",
                "eligible_clinicians": 66,
                "sessions_per_year_min": 6,
                "sessions_per_year_max": 8,
                "format": Program.Format.CCDG_60,
            },
        )
        return program

    def _roster(self, program: Program) -> list[Clinician]:
        rng = random.Random(2012)
        names = [(f, last) for last in LAST_NAMES for f in FIRST_NAMES]
        rng.shuffle(names)
        disciplines = [d for d, n in DISCIPLINE_COUNTS for _ in range(n)]
        rng.shuffle(disciplines)
        clinicians = []
        for index, discipline in enumerate(disciplines):
            first, last = names[index]
            email = f"{first}.{last}@{EMAIL_DOMAIN}".lower()
            gender = rng.choices(
                [Gender.FEMALE, Gender.MALE, Gender.NONBINARY, Gender.UNDISCLOSED],
                weights=[55, 40, 2, 3],
            )[0]
            clinician, _ = Clinician.objects.get_or_create(
                program=program,
                email=email,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "discipline": discipline,
                    "gender": gender,
                    "years_at_institution": rng.choice([1, 2, 3, 4, 6, 7, 8, 9, 12, 15, 20]),
                    "patient_care_halfdays": rng.choice([4, 5, 6, 7, 8, 8, 9]),
                    "status": Clinician.Status.INVITED,
                },
            )
            clinicians.append(clinician)
        return clinicians

    def _groups(self, program: Program, clinicians: list[Clinician]) -> list[Group]:
        groups = [Group.objects.get_or_create(program=program, name=n)[0] for n in GROUP_NAMES]
        if GroupMembership.objects.filter(group__program=program).exists():
            return groups
        # Every non-physician is active, so each group gets part of the interprofessional mix.
        others = [c for c in clinicians if c.discipline != Discipline.PHYSICIAN]
        physicians = [c for c in clinicians if c.discipline == Discipline.PHYSICIAN]
        active = others + physicians[: ACTIVE_PARTICIPANTS - len(others)]
        Clinician.objects.filter(pk__in=[c.pk for c in active]).update(
            status=Clinician.Status.ACTIVE
        )
        # The same balanced assignment a coordinator runs from the Groups page.
        run = groups_services.assignment_preview(
            program=program,
            actor=None,
            request=groups_services.AssignmentRequest(groups=len(groups), min_size=8, max_size=12),
        )
        if isinstance(run, Infeasible):
            raise CommandError("Demo assignment failed: " + " ".join(run.problems))
        groups_services.assignment_commit(run=run, actor=None)
        # Some clinicians have not been invited yet: they stay eligible.
        leftover = list(
            Clinician.objects.filter(program=program, status=Clinician.Status.INVITED)
            .order_by("id")
            .values_list("pk", flat=True)[:11]
        )
        Clinician.objects.filter(pk__in=leftover).update(status=Clinician.Status.ELIGIBLE)
        return groups

    def _facilitators(self, program: Program, groups: list[Group]) -> None:
        pool = []
        for name, background in FACILITATORS:
            email = name.split(" ", 1)[1].replace(" ", ".").lower() + f"@{EMAIL_DOMAIN}"
            facilitator, _ = Facilitator.objects.get_or_create(
                program=program, email=email, defaults={"name": name, "background": background}
            )
            pool.append(facilitator)
        if FacilitatorAssignment.objects.filter(group__program=program).exists():
            return
        # Each group: one lead and one backup; the psychologist backs up group 1.
        pairs = [(pool[0], pool[4]), (pool[1], pool[5]), (pool[2], pool[3])]
        for group, (lead, backup) in zip(groups, pairs, strict=True):
            for facilitator, role in ((lead, "lead"), (backup, "backup")):
                FacilitatorAssignment.objects.create(
                    group=group, facilitator=facilitator, role=role, starts_on=date(2026, 9, 1)
                )

    def _sign_ins(self, program: Program, clinicians: list[Clinician]) -> None:
        User = get_user_model()

        def account(username: str, first: str, last: str, email: str, **flags):
            user, _ = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first, "last_name": last, "email": email, **flags},
            )
            user.set_password(self._password_for(user))
            user.save()
            return user

        coordinator = account("coordinator", "Carla", "Montes", f"coordinator@{EMAIL_DOMAIN}")
        ProgramRole.objects.get_or_create(
            program=program, user=coordinator, role=ProgramRole.Role.COORDINATOR
        )
        reports = account("reports", "Rafael", "Ortiz", f"reports@{EMAIL_DOMAIN}")
        ProgramRole.objects.get_or_create(
            program=program, user=reports, role=ProgramRole.Role.REPORT_VIEWER
        )
        lead = Facilitator.objects.get(program=program, name=FACILITATORS[0][0])
        facilitator = account("facilitator", "Helen", "Marsh", lead.email)
        if lead.user_id is None:
            lead.user = facilitator
            lead.save(update_fields=["user"])
        member = (
            Clinician.objects.filter(
                program=program,
                memberships__group__name=GROUP_NAMES[0],
                discipline=Discipline.PHYSICIAN,
            )
            .order_by("id")
            .first()
        )
        participant = account("participant", member.first_name, member.last_name, member.email)
        if member.user_id is None:
            member.user = participant
            member.save(update_fields=["user"])
        account(
            "admin",
            "Site",
            "Administrator",
            f"admin@{EMAIL_DOMAIN}",
            is_staff=True,
            is_superuser=True,
        )

    def _year(self, program: Program, groups: list[Group]) -> None:
        """Rooms and 7 monthly sessions per group, the first ones already held."""
        if Session.objects.filter(group__program=program).exists():
            return
        rooms = []
        for (name, location), group in zip(ROOMS, groups, strict=True):
            room, _ = Room.objects.get_or_create(
                program=program, name=name, defaults={"location": location, "capacity": 12}
            )
            group.default_room = room
            group.save(update_fields=["default_room"])
            rooms.append(room)
        rule = schedule_services.Recurrence(
            frequency="monthly", weekday=1, ordinal=2
        )  # 2nd Tuesday
        today = program.today()
        # Start PAST_SESSIONS months back, so that part of the year has already happened.
        start_month = date(today.year, today.month, 1)
        for _ in range(PAST_SESSIONS):
            start_month = (start_month - timedelta(days=1)).replace(day=1)
        dates, _ = schedule_services.recurrence_dates(
            rule=rule, first=start_month, count=SESSIONS_PER_GROUP, blackouts=set()
        )
        # The groups have met since the start of the year: their members joined before the
        # first session (an assignment committed today would date them from today, and the
        # held sessions would then have had no members).
        GroupMembership.objects.current().filter(
            group__program=program, joined_on__gt=start_month
        ).update(joined_on=start_month)
        start = time(7, 30)
        now = timezone.now()
        agenda = schedule_services.agenda_for_program(program)
        past = [d for d in dates if program.at(d, start) <= now]
        upcoming = [d for d in dates if program.at(d, start) > now]
        slots = [
            schedule_services.GroupSlot(group=g, room=r, start_time=start)
            for g, r in zip(groups, rooms, strict=True)
        ]
        if upcoming:
            schedule_services.schedule_generate(
                program=program,
                slots=slots,
                rule=rule,
                first=upcoming[0],
                count=len(upcoming),
                duration_minutes=program.session_minutes,
                agenda=agenda,
                actor=None,
            )
        # The scheduling service refuses dates in the past: the held sessions are made directly,
        # with the same agenda copy and room booking.
        for slot in slots:
            for day in past:
                session = Session.objects.create(
                    group=slot.group,
                    starts_at=program.at(day, start),
                    duration_minutes=program.session_minutes,
                    room=slot.room,
                    presenter_slots=program.presenter_slots,
                    uid=uuid.uuid4(),
                )
                schedule_services._copy_agenda(session, agenda)
                session.save(update_fields=["agenda_name"])
                schedule_services._book(session)
        self._presenters_and_attendance(program, groups)

    def _presenters_and_attendance(self, program: Program, groups: list[Group]) -> None:
        rng = random.Random(2013)
        now = timezone.now()
        titles = iter(WORKING_TITLES * 4)
        for group in groups:
            members = list(
                Clinician.objects.filter(
                    current_membership_q("memberships__"), memberships__group=group
                ).order_by("id")
            )
            # How keen each member is: about half of the eligible clinicians come regularly.
            keen = {c.pk: rng.choice([0.15, 0.3, 0.6, 0.85, 0.95]) for c in members}
            sessions = list(Session.objects.filter(group=group).order_by("starts_at"))
            held = [s for s in sessions if s.starts_at <= now]
            upcoming = [s for s in sessions if s.starts_at > now]
            for index, session in enumerate(held):
                presenter = members[(index * 3 + len(group.name)) % len(members)]
                Presentation.objects.create(
                    session=session,
                    clinician=presenter,
                    status=Presentation.Status.CONFIRMED,
                    slot=1,
                    working_title=next(titles),
                )
                rows = []
                for c in members:
                    came = c.pk == presenter.pk or rng.random() < keen[c.pk]
                    status = "present" if came else rng.choice(["absent", "excused"])
                    rows.append(Attendance(session=session, clinician=c, status=status))
                Attendance.objects.bulk_create(rows)
            # The coming sessions: a presenter and someone waiting where volunteering is open,
            # and RSVPs for the next one.
            for session in upcoming[:2]:
                for c in rng.sample(members, 2):
                    try:
                        presenters_services.presenter_volunteer(
                            session=session, clinician=c, working_title=next(titles), actor=None
                        )
                    except ValidationError:
                        break  # volunteering has closed for this one
            if upcoming:
                Rsvp.objects.bulk_create(
                    Rsvp(
                        session=upcoming[0],
                        clinician=c,
                        answer="going" if rng.random() < keen[c.pk] + 0.1 else "not_going",
                    )
                    for c in members
                    if rng.random() < 0.7
                )
