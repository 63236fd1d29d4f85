"""python manage.py seed_demo: a demo program shaped like the reference one.

66 eligible clinicians (57 physicians, 6 nurse practitioners, a social worker, a clinical
pharmacist and a psychologist), 30 active participants in 3 groups, 6 facilitators (4
clinician-educators, a psychologist, a clinician-investigator), and the demo sign-ins.
Running it again changes nothing that is already there.
"""

from __future__ import annotations

import random
from datetime import date

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from sessions_app import grouping
from sessions_app.assignment import Infeasible
from sessions_app.models import (
    Clinician,
    Discipline,
    Facilitator,
    FacilitatorAssignment,
    Gender,
    Group,
    GroupMembership,
    Program,
    ProgramRole,
)

DEMO_PASSWORD = "ccdg-demo"  # noqa: S105 - published demo password, debug mode only
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


class Command(BaseCommand):
    help = "Create the demo program and demo sign-ins (idempotent; debug mode or --force only)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even when debug mode is off.")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already has a program (used by `make run`).",
        )

    def handle(self, *args, force, if_empty, **options):
        if not (settings.DEBUG or force):
            raise CommandError(
                "seed_demo creates accounts with a published password: it runs only with "
                "CCDG_DEBUG=1 or --force."
            )
        if if_empty and Program.objects.exists():
            self.stdout.write("The database already has a program; demo data not loaded.")
            return
        with transaction.atomic():
            program = self._program()
            clinicians = self._roster(program)
            groups = self._groups(program, clinicians)
            self._facilitators(program, groups)
            self._sign_ins(program, clinicians)
        # Later parts of the app add their own demo data here.
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo program “{program.name}” ready: {len(clinicians)} clinicians, "
                f"{len(groups)} groups. Sign in as coordinator, facilitator, participant, "
                f"reports or admin with the password {DEMO_PASSWORD}."
            )
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
        run = grouping.assignment_preview(
            program=program,
            actor=None,
            request=grouping.AssignmentRequest(groups=len(groups), min_size=8, max_size=12),
        )
        if isinstance(run, Infeasible):
            raise CommandError("Demo assignment failed: " + " ".join(run.problems))
        grouping.assignment_commit(run=run, actor=None)
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
            user.set_password(DEMO_PASSWORD)
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
