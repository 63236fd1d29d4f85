"""The roster: clinicians eligible for the program, their invitations and roster imports."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse

from ccdg.models import UploadDraft


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

    program = models.ForeignKey(
        "sessions_app.Program", on_delete=models.PROTECT, related_name="clinicians"
    )
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
    available_slots = models.JSONField(
        default=list,
        blank=True,
        help_text="Meeting times this clinician can attend; empty means any.",
    )
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


# What a coordinator enters and edits about a clinician (the form's fields, and the keys the
# roster services accept).
CLINICIAN_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "discipline",
    "gender",
    "years_at_institution",
    "patient_care_halfdays",
)


class Invitation(models.Model):
    """A single-use, expiring link with which an invited clinician, or a facilitator who is
    not on the roster, creates their account (exactly one of the two).

    Only a hash of the token is stored: a copy of the database cannot be used to sign in.
    """

    clinician = models.ForeignKey(
        Clinician, null=True, blank=True, on_delete=models.CASCADE, related_name="invitations"
    )
    facilitator = models.ForeignKey(
        "sessions_app.Facilitator",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    # Or someone with no entry in the program, invited to a role (coordinator, report viewer).
    program = models.ForeignKey(
        "sessions_app.Program",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="role_invitations",
    )
    role = models.CharField(max_length=20, blank=True)
    invitee_name = models.CharField(max_length=200, blank=True)
    invitee_email = models.EmailField(blank=True)
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
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(clinician__isnull=False, facilitator__isnull=True, role="")
                    | models.Q(clinician__isnull=True, facilitator__isnull=False, role="")
                    | (
                        models.Q(clinician__isnull=True, facilitator__isnull=True)
                        & models.Q(program__isnull=False)
                        & ~models.Q(role="")
                        & ~models.Q(invitee_email="")
                    )
                ),
                name="invitation_one_person",
            )
        ]

    def __str__(self) -> str:
        return f"Invitation for {self.clinician or self.facilitator}"

    # Who is invited, whichever kind of entry they are.
    @property
    def entry(self):  # type: ignore[no-untyped-def]
        """The roster or facilitator entry invited (None for a role invitation)."""
        return self.clinician or self.facilitator

    @property
    def in_program(self):  # type: ignore[no-untyped-def]
        return self.entry.program if self.entry is not None else self.program

    @property
    def email(self) -> str:
        return self.entry.email if self.entry is not None else self.invitee_email

    def get_role_display_text(self) -> str:
        """ "coordinator", "report viewer" for a role invitation, else ""."""
        labels = {"coordinator": "coordinator", "report_viewer": "report viewer"}
        return labels.get(self.role, "")

    @property
    def greeting_name(self) -> str:
        """ "Hello ...": a clinician's first name, a facilitator's name as the pool writes it."""
        if self.clinician is not None:
            return self.clinician.first_name
        return self._full_name or self.invitee_email

    @property
    def _full_name(self) -> str:
        return self.facilitator.name if self.facilitator is not None else self.invitee_name

    @property
    def first_name(self) -> str:
        if self.clinician is not None:
            return self.clinician.first_name
        return self._full_name.rpartition(" ")[0] or self._full_name

    @property
    def last_name(self) -> str:
        if self.clinician is not None:
            return self.clinician.last_name
        return self._full_name.rpartition(" ")[2] if " " in self._full_name else ""


class RosterImport(UploadDraft):
    """An uploaded roster CSV waiting for the coordinator to confirm its preview."""

    program = models.ForeignKey(
        "sessions_app.Program", on_delete=models.CASCADE, related_name="roster_imports"
    )
