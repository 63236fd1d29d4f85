"""The year's sessions, the rooms they book, blackout dates, refreshment orders, private
calendar feeds and facilitator absences."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models


class Room(models.Model):
    """A room where groups meet."""

    program = models.ForeignKey(
        "sessions_app.Program", on_delete=models.CASCADE, related_name="rooms"
    )
    name = models.CharField(max_length=100)
    location = models.CharField(max_length=200, blank=True)
    capacity = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["program", "name"], name="room_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


# --- Sessions (the year's schedule) -----------------------------------------------------------


class BlackoutDate(models.Model):
    """A day with no sessions (holiday, conference day)."""

    program = models.ForeignKey(
        "sessions_app.Program", on_delete=models.CASCADE, related_name="blackout_dates"
    )
    date = models.DateField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["program", "date"], name="blackout_unique_date"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.reason}".strip()


class Session(models.Model):
    """One meeting of one group. Stored in UTC, shown in the program's time zone."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CANCELLED = "cancelled", "Cancelled"

    group = models.ForeignKey(
        "sessions_app.Group", on_delete=models.PROTECT, related_name="sessions"
    )
    starts_at = models.DateTimeField(db_index=True)
    duration_minutes = models.PositiveSmallIntegerField(default=60)
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    cancel_reason = models.CharField(max_length=200, blank=True)
    presenter_slots = models.PositiveSmallIntegerField(default=1)
    agenda_name = models.CharField(max_length=100, blank=True)

    class Mode(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        ONLINE = "online", "Online"
        HYBRID = "hybrid", "Hybrid: in the room and online"

    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.IN_PERSON)
    meeting_url = models.URLField(
        max_length=500,
        blank=True,
        help_text="Online and hybrid sessions: the meeting link (https). Shown only to those who "
        "see the session (its group's members and facilitators, the coordinator), in their "
        "reminders and calendars; never in exports.",
    )
    theme = models.CharField(
        max_length=120,
        blank=True,
        help_text="An optional preselected topic, for example “Patients who do not follow "
        "advice”; shown on the agenda and in the reminders.",
    )
    # Calendar identity: the same UID for the life of the session, SEQUENCE bumped on changes.
    uid = models.UUIDField(unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0)
    # Live view state, kept on the server so that a reload or a second device agree.
    live_started_at = models.DateTimeField(null=True, blank=True)
    live_paused_at = models.DateTimeField(null=True, blank=True)
    live_paused_seconds = models.PositiveIntegerField(default=0)
    live_segment = models.PositiveSmallIntegerField(default=0)
    live_segment_started_at = models.DateTimeField(null=True, blank=True)
    live_extra_minutes = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "group__name"]

    def __str__(self) -> str:
        return f"{self.group} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_online(self) -> bool:
        """Online or hybrid: the session has a meeting link."""
        return self.mode != self.Mode.IN_PERSON

    @property
    def planned_end(self) -> datetime:
        """The end as scheduled: start plus the planned length (calendars, the schedule)."""
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def ends_at(self) -> datetime:
        """The end as held: the planned end plus the minutes added in the live view (case-note
        windows and retention count from here)."""
        return self.planned_end + timedelta(minutes=self.live_extra_minutes)


class RoomBooking(models.Model):
    """One five-minute slot of a room held by a session.

    Overlapping sessions in one room would hold the same slot: the unique constraint makes the
    database itself refuse a double booking, on SQLite and PostgreSQL alike.
    """

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="bookings")
    slot_start = models.DateTimeField()
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="bookings")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "slot_start"], name="room_no_double_booking"),
        ]

    def __str__(self) -> str:
        return f"{self.room} {self.slot_start:%Y-%m-%d %H:%M}"


class RefreshmentOrder(models.Model):
    """Breakfast for the groups meeting on one date."""

    class Status(models.TextChoices):
        NEEDED = "needed", "Not ordered yet"
        REQUESTED = "requested", "Requested"
        CONFIRMED = "confirmed", "Confirmed"

    program = models.ForeignKey(
        "sessions_app.Program", on_delete=models.CASCADE, related_name="refreshments"
    )
    date = models.DateField()
    vendor = models.CharField(max_length=200, blank=True)
    items = models.CharField(max_length=300, blank=True, default="Continental breakfast")
    headcount = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEEDED)
    cost = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    notes = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["program", "date"], name="refreshment_one_per_date"),
        ]

    def __str__(self) -> str:
        return f"Refreshments {self.date:%Y-%m-%d}"


class FacilitatorAbsence(models.Model):
    """A facilitator who cannot come to a session; the backup becomes acting lead."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="absences")
    facilitator = models.ForeignKey(
        "sessions_app.Facilitator", on_delete=models.CASCADE, related_name="absences"
    )
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "facilitator"], name="absence_one_per_facilitator"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.facilitator} absent from {self.session}"


class CalendarToken(models.Model):
    """A private calendar feed address. Only a hash is stored; revoking ends the feed."""

    class Scope(models.TextChoices):
        PERSON = "person", "My sessions"
        PROGRAM = "program", "All sessions of a program"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_tokens"
    )
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.PERSON)
    program = models.ForeignKey(
        "sessions_app.Program", null=True, blank=True, on_delete=models.CASCADE
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user} ({self.get_scope_display()})"
