"""Who presents at a session, who said they would come (RSVP) and who came (attendance)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Presentation(models.Model):
    """A participant presenting a case at a session, or waiting for a slot, or asked to."""

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", "Presenting"
        WAITLISTED = "waitlisted", "On the waitlist"
        INVITED = "invited", "Asked to present"
        WITHDRAWN = "withdrawn", "Withdrawn"
        DECLINED = "declined", "Declined"

    session = models.ForeignKey(
        "sessions_app.Session", on_delete=models.CASCADE, related_name="presentations"
    )
    clinician = models.ForeignKey(
        "sessions_app.Clinician", on_delete=models.PROTECT, related_name="presentations"
    )
    status = models.CharField(max_length=12, choices=Status.choices)
    slot = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Which presenter slot a confirmed presenter holds."
    )
    working_title = models.CharField(
        max_length=120, blank=True, help_text="A few words, no patient details."
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["session", "status", "created_at", "id"]
        constraints = [
            # Two volunteers racing for the last slot: the database lets exactly one hold it.
            models.UniqueConstraint(
                fields=["session", "slot"],
                condition=models.Q(status="confirmed"),
                name="presentation_one_per_slot",
            ),
            models.UniqueConstraint(
                fields=["session", "clinician"],
                condition=models.Q(status__in=["confirmed", "waitlisted", "invited"]),
                name="presentation_one_open_per_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.clinician} {self.get_status_display()} at {self.session}"


class Rsvp(models.Model):
    class Answer(models.TextChoices):
        GOING = "going", "Going"
        NOT_GOING = "not_going", "Cannot make it"

    session = models.ForeignKey(
        "sessions_app.Session", on_delete=models.CASCADE, related_name="rsvps"
    )
    clinician = models.ForeignKey(
        "sessions_app.Clinician", on_delete=models.CASCADE, related_name="rsvps"
    )
    answer = models.CharField(max_length=10, choices=Answer.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "clinician"], name="rsvp_one_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.clinician}: {self.get_answer_display()}"


class Attendance(models.Model):
    class Status(models.TextChoices):
        PRESENT = "present", "Present"
        ABSENT = "absent", "Absent"
        EXCUSED = "excused", "Excused"
        GUEST = "guest", "Guest from another group"

    session = models.ForeignKey(
        "sessions_app.Session", on_delete=models.CASCADE, related_name="attendance"
    )
    clinician = models.ForeignKey(
        "sessions_app.Clinician", on_delete=models.PROTECT, related_name="attendance"
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "clinician"], name="attendance_one_per_person"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.clinician}: {self.get_status_display()}"
