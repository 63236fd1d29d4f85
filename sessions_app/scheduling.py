"""The year's schedule: recurrence, blackout dates, room bookings, agenda copies, reschedule
and cancel. Datetimes are stored aware (UTC) and computed in the program's time zone, so a
07:30 session stays at 07:30 local time across daylight-saving changes."""

from __future__ import annotations

import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from dateutil.rrule import MONTHLY, WEEKLY, rrule
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from ccdg.audit import audit_record
from ccdg.notifications import notify

from .agenda_builtins import ensure_builtin_agendas
from .casenote_retention import casenote_reschedule_retention
from .models import (
    AgendaSegment,
    AgendaTemplate,
    BlackoutDate,
    Group,
    Program,
    Room,
    RoomBooking,
    Session,
    SessionSegment,
)

SLOT_MINUTES = 5
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}


# --- Agenda ---------------------------------------------------------------------------------


def agenda_validate(*, duration_minutes: int, starts: list[int]) -> list[str]:
    """Problems with an agenda: the first segment at 0:00, strictly increasing, all inside."""
    problems = []
    if not starts:
        return ["An agenda needs at least one segment."]
    if starts[0] != 0:
        problems.append(f"The first segment must start at 0:00, not {_clock(starts[0])}.")
    for before, after in zip(starts, starts[1:], strict=False):
        if after <= before:
            problems.append(
                f"Segments must start in order: {_clock(after)} comes after {_clock(before)}."
            )
    for start in starts:
        if start >= duration_minutes:
            problems.append(
                f"The segment at {_clock(start)} starts at or after the end "
                f"({_clock(duration_minutes)})."
            )
    return problems


def _clock(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


def agenda_for_program(program: Program) -> AgendaTemplate:
    """The program's default agenda: the built-in one matching its format."""
    name = "Balint 90 minutes" if program.format == Program.Format.BALINT_90 else "CCDG 60 minutes"
    template = AgendaTemplate.objects.filter(program__isnull=True, name=name).first()
    if template is None:
        ensure_builtin_agendas(AgendaTemplate, AgendaSegment)
        template = AgendaTemplate.objects.get(program__isnull=True, name=name)
    return template


def _copy_agenda(session: Session, template: AgendaTemplate) -> None:
    SessionSegment.objects.bulk_create(
        SessionSegment(
            session=session, start_minute=s.start_minute, title=s.title, guidance=s.guidance
        )
        for s in template.segments.all()
    )
    session.agenda_name = template.name


# --- Rooms ----------------------------------------------------------------------------------


def _slots(starts_at: datetime, minutes: int) -> list[datetime]:
    return [starts_at + timedelta(minutes=m) for m in range(0, minutes, SLOT_MINUTES)]


def _book(session: Session) -> None:
    """Hold the room for the session. The database refuses an overlapping booking."""
    if session.room_id is None or session.status == Session.Status.CANCELLED:
        return
    try:
        with transaction.atomic():
            RoomBooking.objects.bulk_create(
                RoomBooking(room_id=session.room_id, slot_start=slot, session=session)
                for slot in _slots(session.starts_at, session.duration_minutes)
            )
    except IntegrityError:
        raise ValidationError(_double_booking_message(session)) from None


def _double_booking_message(session: Session) -> str:
    other = (
        RoomBooking.objects.filter(
            room_id=session.room_id,
            slot_start__in=_slots(session.starts_at, session.duration_minutes),
        )
        .exclude(session=session)
        .select_related("session__group", "room")
        .first()
    )
    when = _local(session.starts_at, session.group.program)
    if other is None:
        return f"The room is already booked on {when:%a %b %-d, %Y at %H:%M}."
    return (
        f"{other.room.name} is already booked on {when:%a %b %-d, %Y at %H:%M} "
        f"by {other.session.group.name}."
    )


def _local(moment: datetime, program: Program) -> datetime:
    return timezone.localtime(moment, zoneinfo.ZoneInfo(program.timezone))


def room_warnings(*, session: Session) -> list[str]:
    """Soft problems: a group larger than its room."""
    room = session.room
    if room is None or room.capacity is None:
        return []
    size = session.group.memberships.filter(left_on__isnull=True).count()
    if size > room.capacity:
        return [f"{session.group.name} has {size} members; {room.name} seats {room.capacity}."]
    return []


# --- Scheduling ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recurrence:
    """Monthly on the n-th weekday (``ordinal`` 1-4 or -1 for last) or every ``interval`` weeks."""

    frequency: str  # "monthly" or "weekly"
    weekday: int  # 0 = Monday
    ordinal: int = 2
    interval: int = 1

    def describe(self) -> str:
        if self.frequency == "monthly":
            return f"monthly on the {ORDINALS[self.ordinal]} {WEEKDAYS[self.weekday]}"
        every = "week" if self.interval == 1 else f"{self.interval} weeks"
        return f"every {every} on {WEEKDAYS[self.weekday]}"


def recurrence_dates(
    *, rule: Recurrence, first: date, count: int, blackouts: set[date]
) -> tuple[list[date], list[date]]:
    """``count`` meeting dates from ``first`` on, and the blackout dates that were skipped."""
    from dateutil.rrule import weekday as rr_weekday

    day = rr_weekday(rule.weekday, rule.ordinal if rule.frequency == "monthly" else None)
    if rule.frequency != "monthly":
        # rrule counts "every N weeks" from dtstart's week: start on the first matching day,
        # or a series asked for from a Friday would skip the following Thursday.
        first = first + timedelta(days=(rule.weekday - first.weekday()) % 7)
    dates = rrule(
        MONTHLY if rule.frequency == "monthly" else WEEKLY,
        dtstart=datetime.combine(first, time()),
        interval=rule.interval,
        byweekday=day,
    )
    chosen, skipped = [], []
    for moment in dates:
        if len(chosen) == count or len(chosen) + len(skipped) > count + 366:
            break
        if moment.date() in blackouts:
            skipped.append(moment.date())
        else:
            chosen.append(moment.date())
    return chosen, skipped


@dataclass(frozen=True)
class GroupSlot:
    """Where and when one group meets: its room, and its own time if it differs."""

    group: Group
    room: Room | None
    start_time: time


def scheduled_days(*, groups: list[Group], tz: zoneinfo.ZoneInfo) -> dict[int, set[date]]:
    """Group id -> the local dates on which the group already has a session. A cancelled
    session frees its date."""
    days: dict[int, set[date]] = {group.pk: set() for group in groups}
    for group_id, starts_at in (
        Session.objects.filter(group__in=groups)
        .exclude(status=Session.Status.CANCELLED)
        .values_list("group_id", "starts_at")
    ):
        days[group_id].add(timezone.localtime(starts_at, tz).date())
    return days


def sessions_a_year_warnings(*, program: Program, group_ids: list[int], tense: str) -> list[str]:
    """Groups with more sessions (not cancelled) than the program plans a year. A program is
    one year, so every session of its groups counts. ``tense``: "would have" for a preview,
    "has" once created."""
    counts = (
        Session.objects.filter(group_id__in=group_ids)
        .exclude(status=Session.Status.CANCELLED)
        .values_list("group__name")
        .annotate(n=Count("id"))
        .order_by("group__name")
    )
    low, high = program.sessions_per_year_min, program.sessions_per_year_max
    return [
        f"{name} {tense} {n} sessions this year, more than the {low}–{high} a year in the "
        "program's settings."
        for name, n in counts
        if n > high
    ]


class GeneratedSessions(list[Session]):
    """The sessions a generation created, in order, and how many dates it left alone because
    the group already had a session that day."""

    skipped_scheduled: int = 0


def schedule_generate(
    *,
    program: Program,
    slots: list[GroupSlot],
    rule: Recurrence,
    first: date,
    count: int,
    duration_minutes: int,
    agenda: AgendaTemplate,
    actor: Any,
    skip_scheduled: bool = True,
) -> GeneratedSessions:
    """Create ``count`` sessions for each group: all of them, or none with the reasons.

    With ``skip_scheduled`` (the default) a date on which a group already has a session is left
    alone, so generating again (a longer series, a group added) makes no duplicates."""
    blackouts = set(BlackoutDate.objects.filter(program=program).values_list("date", flat=True))
    dates, skipped = recurrence_dates(rule=rule, first=first, count=count, blackouts=blackouts)
    tz = zoneinfo.ZoneInfo(program.timezone)
    now = timezone.now()
    problems: list[str] = []
    created = GeneratedSessions()
    skipped_scheduled = 0
    with transaction.atomic():
        taken = (
            scheduled_days(groups=[slot.group for slot in slots], tz=tz) if skip_scheduled else {}
        )
        for slot in slots:
            for day in dates:
                if day in taken.get(slot.group.pk, ()):
                    skipped_scheduled += 1
                    continue
                starts_at = datetime.combine(day, slot.start_time, tzinfo=tz)
                if starts_at <= now:
                    problems.append(f"{day:%b %-d, %Y} is in the past.")
                    continue
                try:
                    created.append(
                        session_create(
                            group=slot.group,
                            starts_at=starts_at,
                            room=slot.room,
                            duration_minutes=duration_minutes,
                            agenda=agenda,
                            actor=None,
                        )
                    )
                except ValidationError as exc:
                    problems.extend(exc.messages)
        if problems:
            transaction.set_rollback(True)
            raise ValidationError(sorted(set(problems)))
        audit_record(
            actor=actor,
            action="schedule.generate",
            program_id=program.pk,
            data={
                "sessions": len(created),
                "skipped_blackouts": [d.isoformat() for d in skipped],
                "skipped_scheduled": skipped_scheduled,
            },
        )
    created.skipped_scheduled = skipped_scheduled
    return created


def _check_start(starts_at: datetime) -> None:
    if starts_at.minute % SLOT_MINUTES or starts_at.second:
        raise ValidationError("Sessions start on a five-minute mark (for example 07:30 or 07:35).")


def session_create(
    *,
    group: Group,
    starts_at: datetime,
    duration_minutes: int,
    room: Room | None,
    agenda: AgendaTemplate,
    actor: Any,
) -> Session:
    """One session with its own copy of the agenda and its room held."""
    if timezone.is_naive(starts_at):
        raise ValueError("starts_at must be timezone-aware")
    _check_start(starts_at)
    if starts_at <= timezone.now():
        raise ValidationError("A session cannot be scheduled in the past.")
    with transaction.atomic():
        session = Session(
            group=group,
            starts_at=starts_at,
            duration_minutes=duration_minutes,
            room=room,
            presenter_slots=group.program.presenter_slots,
            uid=uuid.uuid4(),
        )
        session.save()
        _copy_agenda(session, agenda)
        session.save(update_fields=["agenda_name"])
        _book(session)
        if actor is not None:
            audit_record(
                actor=actor, action="session.create", obj=session, program_id=group.program_id
            )
    return session


def _refuse_if_attended(session: Session, what: str) -> None:
    """A session with attendance recorded took place: cancelling or moving it would leave that
    attendance (and the credit it gives) attached to a session that never happened. The
    attendance sheet's "Clear" action removes it first when it was recorded by mistake."""
    if session.attendance.exists():
        raise ValidationError(
            f"Attendance has been recorded for this session, so it cannot be {what}. If it did "
            "not take place, clear its attendance sheet first."
        )


def session_reschedule(
    *, session: Session, starts_at: datetime, room: Room | None, actor: Any
) -> Session:
    """Move a session; the calendar keeps its UID and gets a higher SEQUENCE."""
    if session.status == Session.Status.CANCELLED:
        raise ValidationError("A cancelled session cannot be rescheduled.")
    _check_start(starts_at)
    if starts_at <= timezone.now():
        raise ValidationError("A session cannot be moved into the past.")
    with transaction.atomic():
        session = Session.objects.select_for_update().get(pk=session.pk)
        _refuse_if_attended(session, "moved")
        session.bookings.all().delete()
        session.starts_at = starts_at
        session.room = room
        session.sequence += 1
        session.save(update_fields=["starts_at", "room", "sequence", "updated_at"])
        _book(session)
        casenote_reschedule_retention(session)
        audit_record(
            actor=actor,
            action="session.reschedule",
            obj=session,
            program_id=session.group.program_id,
        )
        notify("session.rescheduled", program_id=session.group.program_id, session_id=session.pk)
    return session


def session_cancel(*, session: Session, reason: str, actor: Any) -> Session:
    with transaction.atomic():
        session = Session.objects.select_for_update().get(pk=session.pk)
        if session.status == Session.Status.CANCELLED:
            return session
        _refuse_if_attended(session, "cancelled")
        session.status = Session.Status.CANCELLED
        session.cancel_reason = reason[:200]
        session.sequence += 1
        session.save(update_fields=["status", "cancel_reason", "sequence", "updated_at"])
        session.bookings.all().delete()
        audit_record(
            actor=actor, action="session.cancel", obj=session, program_id=session.group.program_id
        )
        notify("session.cancelled", program_id=session.group.program_id, session_id=session.pk)
    return session


def agenda_template_save(
    *,
    program: Program,
    name: str,
    duration_minutes: int,
    segments: list[dict[str, Any]],
    actor: Any,
    template: AgendaTemplate | None = None,
) -> AgendaTemplate:
    """Create or replace a program's agenda template, after validation."""
    starts = [s["start_minute"] for s in segments]
    problems = agenda_validate(duration_minutes=duration_minutes, starts=starts)
    if problems:
        raise ValidationError(problems)
    if template is not None and template.built_in:
        raise ValidationError("Built-in agendas cannot be changed; copy one instead.")
    with transaction.atomic():
        template = template or AgendaTemplate(program=program)
        template.name = name
        template.duration_minutes = duration_minutes
        template.full_clean()
        template.save()
        template.segments.all().delete()
        AgendaSegment.objects.bulk_create(
            AgendaSegment(
                template=template,
                start_minute=s["start_minute"],
                title=s["title"],
                guidance=s.get("guidance", ""),
            )
            for s in segments
        )
        audit_record(actor=actor, action="agenda.save", obj=template, program_id=program.pk)
    return template


def agenda_apply_to_upcoming(*, template: AgendaTemplate, program: Program, actor: Any) -> int:
    """Replace the agenda copy of every upcoming, scheduled session of the program."""
    with transaction.atomic():
        sessions = list(
            Session.objects.filter(
                group__program=program,
                status=Session.Status.SCHEDULED,
                starts_at__gt=timezone.now(),
                live_started_at__isnull=True,
            )
        )
        SessionSegment.objects.filter(session__in=sessions).delete()
        for session in sessions:
            _copy_agenda(session, template)
            if session.duration_minutes != template.duration_minutes:
                # A longer agenda needs the room for longer: book it again (or refuse all).
                session.bookings.all().delete()
                session.duration_minutes = template.duration_minutes
                _book(session)
            session.save(update_fields=["agenda_name", "duration_minutes", "updated_at"])
        audit_record(
            actor=actor,
            action="agenda.apply",
            obj=template,
            program_id=program.pk,
            data={"sessions": len(sessions)},
        )
    return len(sessions)
