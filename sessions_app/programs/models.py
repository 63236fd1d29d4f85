"""A program (one department's year of groups) and who holds which role in it."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone as django_timezone


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a known time zone (for example America/New_York).")


SMALL_CELL_K_DEFAULT = 5
SMALL_CELL_K_MIN = 2


# --- The program's locale: paper size and how dates are written ------------------------------

# Regions that print on US Letter and write the month first ("Dec 8, 2026"); the others print
# on A4 and write the day first ("8 Dec 2026").
LETTER_LOCALES = frozenset({"en-US", "en-CA"})
MONTH_FIRST_LOCALES = frozenset({"en-US", "en-CA"})
# Regions that tell the time on a 12-hour clock ("7:30 AM"); the others use 24 hours ("19:30").
TWELVE_HOUR_LOCALES = frozenset({"en-US"})


def paper_size_for(locale: str) -> str:
    """The paper a program in ``locale`` prints on, as CSS ``@page`` names it: ``"letter"``
    in the United States and Canada, ``"A4"`` elsewhere."""
    return "letter" if locale in LETTER_LOCALES else "A4"


def date_format_for(locale: str, *, weekday: bool = False, long: bool = False) -> str:
    """The Django date format of a day in ``locale``: ``"M j, Y"`` (Dec 8, 2026) in the United
    States and Canada, ``"j M Y"`` (8 Dec 2026) elsewhere. ``weekday`` puts the day's name in
    front (Tue Dec 8, 2026; Tue 8 Dec 2026); ``long`` writes the names in full (Tuesday,
    December 8, 2026; Tuesday 8 December 2026)."""
    month = "F" if long else "M"
    month_first = locale in MONTH_FIRST_LOCALES
    day = f"{month} j, Y" if month_first else f"j {month} Y"
    if not weekday:
        return day
    if long:
        return f"l, {day}" if month_first else f"l {day}"
    return f"D {day}"


def datetime_format_for(locale: str, *, weekday: bool = False) -> str:
    """The Django date format of a moment in ``locale``: the day as :func:`date_format_for`
    writes it, then the time, on a 12-hour clock in the United States (Dec 8, 2026, 7:30 AM)
    and on a 24-hour one elsewhere (8 Dec 2026 07:30; in Canada Dec 8, 2026, 07:30)."""
    day = date_format_for(locale, weekday=weekday)
    clock = "g:i A" if locale in TWELVE_HOUR_LOCALES else "H:i"
    separator = ", " if locale in MONTH_FIRST_LOCALES else " "
    return f"{day}{separator}{clock}"


class Program(models.Model):
    """A department's year of case discussion groups."""

    class Format(models.TextChoices):
        CCDG_60 = "ccdg60", "CCDG, 60 minutes"
        BALINT_90 = "balint90", "Traditional Balint, 90 minutes"

    class Locale(models.TextChoices):
        """Where the program is: its paper size and how its dates are written."""

        US = "en-US", "United States"
        CA = "en-CA", "Canada"
        GB = "en-GB", "United Kingdom"
        IE = "en-IE", "Ireland"
        AU = "en-AU", "Australia"
        NZ = "en-NZ", "New Zealand"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    department = models.CharField(max_length=200, blank=True)
    institution = models.CharField(max_length=200, blank=True)
    academic_year = models.CharField(max_length=20, help_text="For example 2026-2027.")
    timezone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_timezone]
    )
    locale = models.CharField(
        "country",
        max_length=8,
        choices=Locale.choices,
        default=Locale.US,
        help_text="Paper size of the printed documents (US Letter in the United States and "
        "Canada, A4 elsewhere) and how dates are written (Dec 8, 2026 or 8 Dec 2026).",
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

    # The program's clock. Times are stored in UTC and shown, entered and counted in days on
    # the program's time zone. ``ZoneInfo`` keeps one instance per zone name, so asking again
    # costs a dictionary look-up; a cached attribute would instead go stale when the settings
    # page changes ``timezone`` on this very instance.
    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def local(self, moment: datetime) -> datetime:
        """``moment`` on the program's clock."""
        return django_timezone.localtime(moment, self.tz)

    def local_day(self, moment: datetime) -> date:
        """The calendar day of ``moment`` in the program's time zone."""
        return self.local(moment).date()

    def today(self) -> date:
        """Today's date on the program's clock."""
        return self.local_day(django_timezone.now())

    def at(self, day: date, clock: time) -> datetime:
        """``day`` at ``clock`` on the program's clock, as an aware datetime."""
        return datetime.combine(day, clock, tzinfo=self.tz)

    # The program's locale (see ``paper_size_for`` and the date formats above).
    @property
    def paper_size(self) -> str:
        """``"letter"`` or ``"A4"``: the paper the program's PDF documents are laid out for."""
        return paper_size_for(self.locale)

    @property
    def date_format(self) -> str:
        """The Django format of a day in this program: ``"M j, Y"`` or ``"j M Y"``."""
        return date_format_for(self.locale)

    @property
    def datetime_format(self) -> str:
        """The Django format of a day and time in this program (12-hour clock in the US)."""
        return datetime_format_for(self.locale)


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
