"""Programs, the roster of clinicians, program roles, groups and facilitators."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse

from ccdg.fields import EncryptedTextField


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a known time zone (for example America/New_York).")


SMALL_CELL_K_DEFAULT = 5
SMALL_CELL_K_MIN = 2


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
    presenter_slots = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(4)],
        help_text="Cases presented per session.",
    )
    volunteer_close_days = models.PositiveSmallIntegerField(
        default=2, help_text="Volunteering for a session closes this many days before it."
    )
    case_note_retention_days = models.PositiveSmallIntegerField(
        default=7,
        validators=[MaxValueValidator(365)],
        help_text="Case notes are destroyed this many days after their session "
        "(0: as soon as the session ends).",
    )
    credit_hours_per_session = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        default=1,
        help_text="Continuing-education hours per attended session.",
    )
    # The small-cell threshold: a category with fewer respondents than this is never broken out
    # of an anonymous wave (pages, charts, JSON, exports), and "has answered" is recorded only in
    # batches of at least this many. Below the default it needs a recorded reason.
    small_cell_k = models.PositiveSmallIntegerField(
        "small-cell threshold (k)",
        default=SMALL_CELL_K_DEFAULT,
        validators=[MinValueValidator(SMALL_CELL_K_MIN), MaxValueValidator(50)],
        help_text="Categories with fewer respondents than this are shown as '< k'.",
    )
    small_cell_k_reason = models.CharField(
        max_length=300,
        blank=True,
        help_text=f"Required when the threshold is below {SMALL_CELL_K_DEFAULT}.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-academic_year", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sessions_per_year_min__lte=models.F("sessions_per_year_max")),
                name="program_sessions_range",
            ),
            models.CheckConstraint(
                condition=models.Q(small_cell_k__gte=SMALL_CELL_K_DEFAULT)
                | (
                    models.Q(small_cell_k__gte=SMALL_CELL_K_MIN) & ~models.Q(small_cell_k_reason="")
                ),
                name="program_small_cell_k_reason",
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
    clinician = models.ForeignKey(
        "Clinician",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="facilitator_roles",
        help_text="Their own roster entry, when the facilitator is also a clinician here: "
        "they are never placed as a member of a group they facilitate.",
    )
    name = models.CharField(max_length=200)
    email = models.EmailField()
    background = models.CharField(max_length=30, choices=Background.choices)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "program", Lower("email"), name="facilitator_unique_email_per_program"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Room(models.Model):
    """A room where groups meet."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="rooms")
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


class Group(models.Model):
    """One of a program's parallel discussion groups: small, stable through the year."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="groups")
    name = models.CharField(max_length=100)
    default_room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    min_size = models.PositiveSmallIntegerField(default=8)
    max_size = models.PositiveSmallIntegerField(default=12)
    meeting_slot = models.CharField(
        max_length=60,
        blank=True,
        help_text="When this group meets, if not at the program's common time "
        "(for example “Thu 12:00”). Members must be available then.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["program", "name"], name="group_unique_name"),
            models.CheckConstraint(
                condition=models.Q(min_size__lte=models.F("max_size"), min_size__gte=1),
                name="group_size_bounds",
            ),
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
            # left_on is the first day no longer a member; the same day as joined_on is a
            # membership that never took effect. Overlaps are refused by a PostgreSQL trigger
            # (migration 0007).
            models.CheckConstraint(
                condition=models.Q(left_on__isnull=True)
                | models.Q(left_on__gte=models.F("joined_on")),
                name="membership_ends_after_it_starts",
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


class AssignmentConstraint(models.Model):
    """A rule the group assignment must keep: a pin, or a pair kept apart or together."""

    class Kind(models.TextChoices):
        PIN = "pin", "Pin to a group"
        APART = "apart", "Keep apart"
        TOGETHER = "together", "Keep together"

    program = models.ForeignKey(
        Program, on_delete=models.CASCADE, related_name="assignment_constraints"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    clinician = models.ForeignKey(Clinician, on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey(
        Clinician, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.CASCADE, related_name="pins"
    )
    note = models.CharField(
        max_length=200, blank=True, help_text="Why, for example “supervisor and supervisee”."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="pin", group__isnull=False, other__isnull=True)
                    | models.Q(
                        kind__in=["apart", "together"], group__isnull=True, other__isnull=False
                    )
                ),
                name="assignmentconstraint_shape",
            ),
            models.CheckConstraint(
                condition=~models.Q(clinician=models.F("other")),
                name="assignmentconstraint_two_people",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.PIN:
            return f"{self.clinician} pinned to {self.group}"
        verb = "apart from" if self.kind == self.Kind.APART else "together with"
        return f"{self.clinician} {verb} {self.other}"


class AssignmentRun(models.Model):
    """One computed assignment of the program's participants to groups.

    A run starts as a preview; the coordinator may move people in it, then commits it (the
    memberships change) or discards it. Runs are kept as the history of assignments.
    """

    class Mode(models.TextChoices):
        FRESH = "fresh", "Fresh assignment of everyone"
        ADD_NEWCOMERS = "add_newcomers", "Add newcomers to the current groups"

    class Status(models.TextChoices):
        PREVIEW = "preview", "Preview"
        COMMITTED = "committed", "Committed"
        DISCARDED = "discarded", "Discarded"
        SUPERSEDED = "superseded", "Superseded"

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="assignment_runs")
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.FRESH)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PREVIEW)
    params = models.JSONField(default=dict)
    result = models.JSONField(default=dict)
    moves = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    committed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    committed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Assignment #{self.pk} ({self.get_status_display()})"


# --- Sessions (the year's schedule) -----------------------------------------------------------


class BlackoutDate(models.Model):
    """A day with no sessions (holiday, conference day)."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="blackout_dates")
    date = models.DateField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["program", "date"], name="blackout_unique_date"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.reason}".strip()


class AgendaTemplate(models.Model):
    """An ordered agenda. Built-in templates have no program and cannot be edited."""

    program = models.ForeignKey(
        Program, null=True, blank=True, on_delete=models.CASCADE, related_name="agenda_templates"
    )
    name = models.CharField(max_length=100)
    duration_minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(10), MaxValueValidator(240)]
    )
    built_in = models.BooleanField(default=False)

    class Meta:
        ordering = ["-built_in", "name"]
        constraints = [
            models.UniqueConstraint(fields=["program", "name"], name="agenda_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class AgendaSegment(models.Model):
    template = models.ForeignKey(AgendaTemplate, on_delete=models.CASCADE, related_name="segments")
    start_minute = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=120)
    guidance = models.TextField(blank=True)

    class Meta:
        ordering = ["start_minute"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "start_minute"], name="agendasegment_unique_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start_minute // 60}:{self.start_minute % 60:02d} {self.title}"


class Session(models.Model):
    """One meeting of one group. Stored in UTC, shown in the program's time zone."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CANCELLED = "cancelled", "Cancelled"

    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="sessions")
    starts_at = models.DateTimeField(db_index=True)
    duration_minutes = models.PositiveSmallIntegerField(default=60)
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    cancel_reason = models.CharField(max_length=200, blank=True)
    presenter_slots = models.PositiveSmallIntegerField(default=1)
    agenda_name = models.CharField(max_length=100, blank=True)
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


class SessionSegment(models.Model):
    """The session's own copy of its agenda, taken when it was scheduled."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="segments")
    start_minute = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=120)
    guidance = models.TextField(blank=True)

    class Meta:
        ordering = ["start_minute"]

    def __str__(self) -> str:
        return f"{self.start_minute // 60}:{self.start_minute % 60:02d} {self.title}"


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

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="refreshments")
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


class Presentation(models.Model):
    """A participant presenting a case at a session, or waiting for a slot, or asked to."""

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", "Presenting"
        WAITLISTED = "waitlisted", "On the waitlist"
        INVITED = "invited", "Asked to present"
        WITHDRAWN = "withdrawn", "Withdrawn"
        DECLINED = "declined", "Declined"

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="presentations")
    clinician = models.ForeignKey(Clinician, on_delete=models.PROTECT, related_name="presentations")
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

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="rsvps")
    clinician = models.ForeignKey(Clinician, on_delete=models.CASCADE, related_name="rsvps")
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

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendance")
    clinician = models.ForeignKey(Clinician, on_delete=models.PROTECT, related_name="attendance")
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


class FacilitatorAbsence(models.Model):
    """A facilitator who cannot come to a session; the backup becomes acting lead."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="absences")
    facilitator = models.ForeignKey(Facilitator, on_delete=models.CASCADE, related_name="absences")
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


class TakeHomePoint(models.Model):
    """A point the group takes home from a session (no patient identifiers: ccdg.phi.RULE)."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="take_home")
    text = models.CharField(max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Take-home point #{self.pk}"


class CalendarToken(models.Model):
    """A private calendar feed address. Only a hash is stored; revoking ends the feed."""

    class Scope(models.TextChoices):
        PERSON = "person", "My sessions"
        PROGRAM = "program", "All sessions of a program"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_tokens"
    )
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.PERSON)
    program = models.ForeignKey(Program, null=True, blank=True, on_delete=models.CASCADE)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user} ({self.get_scope_display()})"


# --- Confidential case notes ---------------------------------------------------------------------


class ConfidentialityAgreement(models.Model):
    """A participant's promise to keep the group's cases confidential, with when they made it."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="agreements")
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
        Presentation, on_delete=models.PROTECT, related_name="case_note"
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
