"""Programs, the roster of clinicians, program roles, groups and facilitators."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a known time zone (for example America/New_York).")


class Program(models.Model):
    """A department's year of case discussion groups."""

    class Format(models.TextChoices):
        CCDG_60 = "ccdg60", "CCDG, 60 minutes"
        BALINT_90 = "balint90", "Traditional Balint, 90 minutes"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    department = models.CharField(max_length=200, blank=True)
    institution = models.CharField(max_length=200, blank=True)
    academic_year = models.CharField(max_length=20, help_text="For example 2026-2027.")
    timezone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_timezone]
    )
    eligible_clinicians = models.PositiveIntegerField(
        default=0, help_text="How many clinicians the department counts as eligible."
    )
    sessions_per_year_min = models.PositiveSmallIntegerField(default=6)
    sessions_per_year_max = models.PositiveSmallIntegerField(default=8)
    format = models.CharField(max_length=10, choices=Format.choices, default=Format.CCDG_60)
    physicians_only = models.BooleanField(
        default=False, help_text="Traditional Balint groups accept physicians only as members."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-academic_year", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sessions_per_year_min__lte=models.F("sessions_per_year_max")),
                name="program_sessions_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.academic_year})"

    def get_absolute_url(self) -> str:
        return reverse("sessions_app:program_detail", kwargs={"slug": self.slug})

    @property
    def session_minutes(self) -> int:
        return 90 if self.format == self.Format.BALINT_90 else 60


class ProgramRole(models.Model):
    """A role held in a program by appointment (facilitators and participants come from groups)."""

    class Role(models.TextChoices):
        COORDINATOR = "coordinator", "Coordinator"
        REPORT_VIEWER = "report_viewer", "Report viewer"

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="roles")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="program_roles"
    )
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "user", "role"], name="programrole_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} is {self.get_role_display()} of {self.program}"


class Discipline(models.TextChoices):
    PHYSICIAN = "physician", "Physician"
    NURSE_PRACTITIONER = "nurse_practitioner", "Nurse practitioner"
    PHYSICIAN_ASSISTANT = "physician_assistant", "Physician assistant"
    SOCIAL_WORKER = "social_worker", "Social worker"
    PHARMACIST = "pharmacist", "Clinical pharmacist"
    PSYCHOLOGIST = "psychologist", "Psychologist"
    NURSE = "nurse", "Nurse"
    OTHER = "other", "Other"


class Gender(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    NONBINARY = "nonbinary", "Non-binary"
    UNDISCLOSED = "undisclosed", "Prefer not to say"


class Clinician(models.Model):
    """A clinician on a program's roster. Never deleted: deactivation keeps the history."""

    class Status(models.TextChoices):
        ELIGIBLE = "eligible", "Eligible"
        INVITED = "invited", "Invited"
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="clinicians")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="clinicians",
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField()
    discipline = models.CharField(max_length=30, choices=Discipline.choices)
    gender = models.CharField(max_length=20, choices=Gender.choices, default=Gender.UNDISCLOSED)
    years_at_institution = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(70)]
    )
    patient_care_halfdays = models.PositiveSmallIntegerField(
        "half-days of direct patient care per week",
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(14)],
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ELIGIBLE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.UniqueConstraint(
                "program", Lower("email"), name="clinician_unique_email_per_program"
            ),
            models.UniqueConstraint(
                fields=["program", "user"],
                condition=models.Q(user__isnull=False),
                name="clinician_unique_user_per_program",
            ),
        ]
        indexes = [models.Index(fields=["program", "status"])]

    def __str__(self) -> str:
        return self.full_name

    def get_absolute_url(self) -> str:
        return reverse(
            "sessions_app:clinician_detail", kwargs={"slug": self.program.slug, "pk": self.pk}
        )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Facilitator(models.Model):
    """A member of the program's facilitator pool."""

    class Background(models.TextChoices):
        CLINICIAN_EDUCATOR = "clinician_educator", "Clinician-educator"
        PSYCHOLOGIST = "psychologist", "Psychologist"
        PSYCHIATRIST = "psychiatrist", "Psychiatrist"
        CLINICIAN_INVESTIGATOR = "clinician_investigator", "Clinician-investigator"
        OTHER = "other", "Other"

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="facilitators")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="facilitator_roles",
    )
    name = models.CharField(max_length=200)
    email = models.EmailField()
    background = models.CharField(max_length=30, choices=Background.choices)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "program", Lower("email"), name="facilitator_unique_email_per_program"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Group(models.Model):
    """One of a program's parallel discussion groups."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="groups")
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["program", "name"], name="group_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class GroupMembership(models.Model):
    """A clinician's membership of a group; ``left_on`` closes it, the row stays as history."""

    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="memberships")
    clinician = models.ForeignKey(Clinician, on_delete=models.PROTECT, related_name="memberships")
    joined_on = models.DateField()
    left_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["joined_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinician"],
                condition=models.Q(left_on__isnull=True),
                name="membership_one_current_group",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.clinician} in {self.group}"


class FacilitatorAssignment(models.Model):
    """A facilitator leading or backing up a group for a term."""

    class Role(models.TextChoices):
        LEAD = "lead", "Lead"
        BACKUP = "backup", "Backup"

    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="facilitations")
    facilitator = models.ForeignKey(
        Facilitator, on_delete=models.PROTECT, related_name="assignments"
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["group", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "role"],
                condition=models.Q(ends_on__isnull=True, role="lead"),
                name="facilitation_one_current_lead",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.facilitator} ({self.get_role_display()}) for {self.group}"


class Invitation(models.Model):
    """A single-use, expiring link with which an invited clinician creates their account.

    Only a hash of the token is stored: a copy of the database cannot be used to sign in.
    """

    clinician = models.ForeignKey(Clinician, on_delete=models.CASCADE, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.clinician}"


class RosterImport(models.Model):
    """An uploaded roster CSV waiting for the coordinator to confirm its preview.

    The file's content is kept only until it is committed or abandoned (the hourly
    housekeeping job removes drafts after a day): it holds personal data.
    """

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="roster_imports")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(max_length=255)
    content = models.BinaryField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    committed_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.created_at:%Y-%m-%d %H:%M})"
