"""Confidential case notes (encrypted fields) and the confidentiality agreement."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models

from ccdg.fields import EncryptedTextField
from sessions_app.roster.models import Gender

# --- Confidential case notes ---------------------------------------------------------------------


class ConfidentialityAgreement(models.Model):
    """A participant's promise to keep the group's cases confidential, with when they made it."""

    program = models.ForeignKey(
        "sessions_app.Program", on_delete=models.CASCADE, related_name="agreements"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="confidentiality"
    )
    accepted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "user"], name="agreement_once_per_program"),
        ]

    def __str__(self) -> str:
        return f"{self.user} agreed {self.accepted_at:%Y-%m-%d}"


class CaseNote(models.Model):
    """A presenter's short note on their case. Protected health information: the patient's
    name and all free text are encrypted; only metadata is ever shown to those without a need
    to know; the text is destroyed after the retention period."""

    class Visibility(models.TextChoices):
        PRESENTER = "presenter", "Only me"
        FACILITATORS = "facilitators", "Me and the group's facilitators"
        GROUP = "group", "The whole group, during the session"

    presentation = models.OneToOneField(
        "sessions_app.Presentation", on_delete=models.PROTECT, related_name="case_note"
    )
    patient_age = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(130)]
    )
    patient_gender = models.CharField(max_length=20, choices=Gender.choices, blank=True)
    patient_name = EncryptedTextField(
        null=True, blank=True, help_text="A first name or initials only."
    )
    difficulty = EncryptedTextField(null=True, blank=True)
    relationship = EncryptedTextField(null=True, blank=True)
    wish = EncryptedTextField(null=True, blank=True)
    visibility = models.CharField(
        max_length=12, choices=Visibility.choices, default=Visibility.FACILITATORS
    )
    destroy_after = models.DateTimeField(db_index=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    ENCRYPTED_FIELDS = ("patient_name", "difficulty", "relationship", "wish")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        # Metadata only, never content.
        return f"Case note #{self.pk}"

    @property
    def age_display(self) -> str:
        if self.patient_age is None:
            return ""
        return "90+" if self.patient_age >= 90 else str(self.patient_age)
