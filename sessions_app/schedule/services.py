"""The year's schedule: recurrence, blackout dates, room bookings, agenda copies, reschedule
and cancel. Datetimes are stored aware (UTC) and computed in the program's time zone, so a
07:30 session stays at 07:30 local time across daylight-saving changes."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from dateutil.rrule import MONTHLY, WEEKLY, rrule
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from ccdg import phi
from ccdg.audit import audit_record
from ccdg.notifications import notify
from sessions_app import roles
from sessions_app.agenda.models import AgendaSegment, AgendaTemplate, SessionSegment
from sessions_app.groups.models import Facilitator, Group
from sessions_app.programs.models import Program
from sessions_app.schedule import services, signals
from sessions_app.schedule.agenda_builtins import TWO_CASES, ensure_builtin_agendas
from sessions_app.schedule.models import (
    BlackoutDate,
    CalendarToken,
    FacilitatorAbsence,
    RefreshmentOrder,
    Room,
    RoomBooking,
    Session,
)
from sessions_app.schedule.selectors import _token_hash, facilitators_of

SLOT_MINUTES = 5
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}


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
    when = session.group.program.local(session.starts_at)
    if other is None:
        return f"The room is already booked on {when:%a %b %-d, %Y at %H:%M}."
    return (
        f"{other.room.name} is already booked on {when:%a %b %-d, %Y at %H:%M} "
        f"by {other.session.group.name}."
    )


def room_warnings(*, session: Session) -> list[str]:
    """Soft problems: a group larger than its room."""
    room = session.room
    if room is None or room.capacity is None:
        return []
    size = session.group.memberships.current().count()
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
    chosen: list[date] = []
    skipped: list[date] = []
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


def scheduled_days(*, groups: list[Group], program: Program) -> dict[int, set[date]]:
    """Group id -> the local dates on which the group already has a session. A cancelled
    session frees its date."""
    days: dict[int, set[date]] = {group.pk: set() for group in groups}
    for group_id, starts_at in (
        Session.objects.filter(group__in=groups)
        .exclude(status=Session.Status.CANCELLED)
        .values_list("group_id", "starts_at")
    ):
        days[group_id].add(program.local_day(starts_at))
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
    now = timezone.now()
    problems: list[str] = []
    created = GeneratedSessions()
    skipped_scheduled = 0
    with transaction.atomic():
        taken = (
            scheduled_days(groups=[slot.group for slot in slots], program=program)
            if skip_scheduled
            else {}
        )
        for slot in slots:
            for day in dates:
                if day in taken.get(slot.group.pk, ()):
                    skipped_scheduled += 1
                    continue
                starts_at = program.at(day, slot.start_time)
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
        signals.session_moved.send(sender=Session, session=session)
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


THEME_MAX = 120


def two_case_agenda() -> AgendaTemplate:
    """The built-in agenda that gives two cases each their presentation and go-around."""
    template = AgendaTemplate.objects.filter(program__isnull=True, name=TWO_CASES).first()
    if template is None:
        ensure_builtin_agendas(AgendaTemplate, AgendaSegment)
        template = AgendaTemplate.objects.get(program__isnull=True, name=TWO_CASES)
    return template


def meeting_url_clean(mode: str, url: str) -> str:
    """The meeting link for ``mode``: none in person; online and hybrid need one, https only,
    without a user name or password in it. Raises ``ValidationError`` keyed ``meeting_url``."""
    url = (url or "").strip()
    if mode == Session.Mode.IN_PERSON:
        return ""
    if not url:
        raise ValidationError(
            {"meeting_url": "An online or hybrid session needs its meeting link."}
        )
    try:
        URLValidator(schemes=["https"])(url)
    except ValidationError:
        raise ValidationError(
            {"meeting_url": "Give the meeting's https:// link, as the meeting service shows it."}
        ) from None
    if "@" in urlsplit(url).netloc:
        raise ValidationError({"meeting_url": "Leave the user name and password out of the link."})
    return url


def session_plan_set(
    *, session: Session, actor: Any, theme: str, two_cases: bool, mode: str | None = None,
    meeting_url: str = "",
) -> Session:  # fmt: skip
    """A session's optional theme, and whether it discusses two cases: then it has two
    presenter slots and the two-case agenda; back to one case, the program's own agenda and
    slots. Only for a session to come that has not started; a theme names a topic, never a
    patient (the identifier guard refuses one that looks like it does)."""
    theme = " ".join((theme or "").split())
    if mode is not None and mode not in Session.Mode.values:
        raise ValidationError({"mode": "Choose in person, online or hybrid."})
    link = meeting_url_clean(mode, meeting_url) if mode is not None else None
    if len(theme) > THEME_MAX:
        raise ValidationError({"theme": f"Keep the theme under {THEME_MAX} characters."})
    findings = phi.scan(theme) if theme else []
    if findings:
        shown = ", ".join(f"“{f.text}”" for f in findings)
        raise ValidationError(
            {"theme": f"A theme names a topic, not a patient: {shown} looks like an identifier."}
        )
    with transaction.atomic():
        session = (
            Session.objects.select_for_update().select_related("group__program").get(pk=session.pk)
        )
        if (
            session.status != Session.Status.SCHEDULED
            or session.live_started_at is not None
            or session.starts_at <= timezone.now()
        ):
            raise ValidationError("Only a session to come, not yet started, can be planned.")
        program = session.group.program
        slots = 2 if two_cases else program.presenter_slots
        confirmed = session.presentations.filter(status="confirmed").count()
        if confirmed > slots:
            raise ValidationError(
                {"two_cases": f"{confirmed} presenters have confirmed: one case has room for "
                              f"{slots}. Withdraw a presenter first."}
            )  # fmt: skip
        template = two_case_agenda() if two_cases else agenda_for_program(program)
        fields = ["theme", "presenter_slots", "updated_at"]
        if session.agenda_name != template.name:
            SessionSegment.objects.filter(session=session).delete()
            _copy_agenda(session, template)
            fields.append("agenda_name")
            if session.duration_minutes != template.duration_minutes:
                session.bookings.all().delete()
                session.duration_minutes = template.duration_minutes
                _book(session)
                fields.append("duration_minutes")
        session.theme, session.presenter_slots = theme, slots
        if mode is not None and (mode, link) != (session.mode, session.meeting_url):
            # Where to meet changed: calendars take the event again (a higher SEQUENCE).
            session.mode, session.meeting_url = mode, link or ""
            session.sequence += 1
            fields += ["mode", "meeting_url", "sequence"]
        session.save(update_fields=fields)
        audit_record(
            actor=actor, action="session.plan", obj=session, program_id=program.pk,
            data={"theme": bool(theme), "two_cases": two_cases, "mode": session.mode},
        )  # fmt: skip
    return session


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


# --- Generating a schedule ----------------------------------------------------------------------


@dataclass
class SchedulePreview:
    """The dates a recurrence gives, before anything is saved."""

    dates: list[date]
    skipped: list[date]
    # group, room, start_time, times: local datetimes to create, already: dates the group
    # already has a session on (left alone when skipping them)
    rows: list[dict[str, Any]]
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def new_sessions(self) -> int:
        return sum(len(row["times"]) for row in self.rows)


def schedule_preview(
    *,
    program: Program,
    slots: list[services.GroupSlot],
    rule: services.Recurrence,
    first: date,
    count: int,
    duration_minutes: int,
    agenda: AgendaTemplate,
    skip_scheduled: bool = True,
) -> SchedulePreview:
    """What :func:`services.schedule_generate` would do, found by doing it and rolling back:
    the same checks (past dates, double-booked rooms) and the same messages, nothing kept."""
    blackouts = set(BlackoutDate.objects.filter(program=program).values_list("date", flat=True))
    dates, skipped = services.recurrence_dates(
        rule=rule, first=first, count=count, blackouts=blackouts
    )
    taken = (
        services.scheduled_days(groups=[slot.group for slot in slots], program=program)
        if skip_scheduled
        else {}
    )
    rows = [
        {
            "group": slot.group,
            "room": slot.room,
            "start_time": slot.start_time,
            "times": [
                program.at(d, slot.start_time)
                for d in dates
                if d not in taken.get(slot.group.pk, ())
            ],
            "already": [d for d in dates if d in taken.get(slot.group.pk, ())],
        }
        for slot in slots
    ]
    problems: list[str] = []
    warnings: list[str] = []
    if not slots:
        problems.append("Choose at least one group.")
    elif len(dates) < count:
        problems.append(
            f"Only {len(dates)} of {count} dates could be found; check the blackout dates."
        )
    if slots:
        with transaction.atomic():
            try:
                created = services.schedule_generate(
                    program=program,
                    slots=slots,
                    rule=rule,
                    first=first,
                    count=count,
                    duration_minutes=duration_minutes,
                    agenda=agenda,
                    actor=None,
                    skip_scheduled=skip_scheduled,
                )
            except ValidationError as exc:
                problems.extend(exc.messages)
            else:
                warnings = schedule_warnings(
                    sessions=created, program=program, slots=slots, tense="would have"
                )
            transaction.set_rollback(True)
    return SchedulePreview(
        dates=dates, skipped=skipped, rows=rows, problems=problems, warnings=warnings
    )


def schedule_warnings(
    *,
    sessions: list[Session],
    program: Program,
    slots: list[services.GroupSlot],
    tense: str = "has",
) -> list[str]:
    """Room capacity warnings, once per group and room; then the groups that get more sessions
    than the program plans a year."""
    seen: dict[tuple[int, int | None], list[str]] = {}
    for session in sessions:
        key = (session.group_id, session.room_id)
        if key not in seen:
            seen[key] = services.room_warnings(session=session)
    rooms = [w for warnings in seen.values() for w in warnings]
    return rooms + services.sessions_a_year_warnings(
        program=program, group_ids=[slot.group.pk for slot in slots], tense=tense
    )


def room_save(
    *, program: Program, actor: Any, data: dict[str, Any], room: Room | None = None
) -> Room:
    creating = room is None
    room = room or Room(program=program)
    for name in ("name", "location", "capacity"):
        setattr(room, name, data.get(name))
    room.location = room.location or ""
    if Room.objects.filter(program=program, name__iexact=room.name).exclude(pk=room.pk).exists():
        raise ValidationError(f"There is already a room called “{room.name}”.")
    room.save()
    audit_record(
        actor=actor,
        action="room.create" if creating else "room.update",
        obj=room,
        program_id=program.pk,
    )
    return room


@transaction.atomic
def room_delete(*, room: Room, actor: Any) -> None:
    """Remove a room no upcoming session uses (past sessions keep no room)."""
    upcoming = room.sessions.filter(
        starts_at__gte=timezone.now(), status=Session.Status.SCHEDULED
    ).count()
    if upcoming:
        raise ValidationError(
            f"{room.name} is booked for {upcoming} upcoming session{'s' if upcoming > 1 else ''}; "
            "move them to another room first."
        )
    audit_record(actor=actor, action="room.delete", obj=room, program_id=room.program_id)
    room.delete()


def blackout_add(*, program: Program, day: date, reason: str, actor: Any) -> BlackoutDate:
    if BlackoutDate.objects.filter(program=program, date=day).exists():
        raise ValidationError(f"{day:%b %-d, %Y} is already a blackout date.")
    blackout = BlackoutDate.objects.create(program=program, date=day, reason=reason)
    audit_record(actor=actor, action="blackout.create", obj=blackout, program_id=program.pk)
    return blackout


def blackout_remove(*, blackout: BlackoutDate, actor: Any) -> None:
    audit_record(
        actor=actor, action="blackout.delete", obj=blackout, program_id=blackout.program_id
    )
    blackout.delete()


def refreshment_save(
    *, program: Program, day: date, data: dict[str, Any], actor: Any
) -> RefreshmentOrder:
    """Create or change the order of one meeting date (one order per program and date)."""
    fields = ("vendor", "items", "headcount", "status", "cost", "notes")
    with transaction.atomic():
        order, created = RefreshmentOrder.objects.select_for_update().get_or_create(
            program=program, date=day
        )
        for name in fields:
            if name in data:
                value = data[name]
                setattr(order, name, "" if value is None and name in ("vendor", "notes") else value)
        order.full_clean()
        order.save()
        audit_record(
            actor=actor,
            action="refreshment.create" if created else "refreshment.update",
            obj=order,
            program_id=program.pk,
            data={"status": order.status},
        )
    return order


@transaction.atomic
def calendar_token_create(
    *, user: Any, scope: str = CalendarToken.Scope.PERSON, program: Program | None = None
) -> str:
    """A new private feed address for ``user``; earlier ones of the same kind stop working.

    Returns the token itself, which is shown once: only its SHA-256 hash is stored, so a copy
    of the database does not reveal anyone's feed.
    """
    if scope == CalendarToken.Scope.PROGRAM:
        if program is None or not roles.can(user, "calendar.program_feed", program):
            raise ValidationError("Only the program's coordinators have a program-wide feed.")
    else:
        program = None
    CalendarToken.objects.filter(
        user=user, scope=scope, program=program, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    token = secrets.token_urlsafe(32)
    row = CalendarToken.objects.create(
        user=user, scope=scope, program=program, token_hash=_token_hash(token)
    )
    audit_record(
        actor=user,
        action="calendar.token_create",
        obj=row,
        program_id=program.pk if program else None,
    )
    return token


def calendar_token_revoke(*, token: CalendarToken, actor: Any) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor, action="calendar.token_revoke", obj=token, program_id=token.program_id
        )


def facilitator_absence_mark(
    *, session: Session, facilitator: Facilitator, reason: str, actor: Any
) -> FacilitatorAbsence:
    """Record that a facilitator cannot come; the cover changes and both are told (hook)."""
    if session.status == Session.Status.CANCELLED:
        raise ValidationError("This session is cancelled.")
    if session.planned_end <= timezone.now():
        raise ValidationError("This session is over.")
    if facilitator.pk not in {f.pk for f in facilitators_of(session=session)}:
        raise ValidationError(f"{facilitator.name} does not facilitate {session.group.name}.")
    with transaction.atomic():
        absence, created = FacilitatorAbsence.objects.get_or_create(
            session=session, facilitator=facilitator, defaults={"reason": reason[:200]}
        )
        if not created:
            raise ValidationError(f"{facilitator.name} is already marked absent for this session.")
        program_id = session.group.program_id
        audit_record(
            actor=actor,
            action="facilitator.absence_mark",
            obj=session,
            program_id=program_id,
            data={"facilitator": facilitator.pk},
        )
        notify(
            "facilitator.absent",
            program_id=program_id,
            session_id=session.pk,
            facilitator_id=facilitator.pk,
        )
    return absence


def facilitator_absence_remove(*, session: Session, facilitator: Facilitator, actor: Any) -> None:
    """Take back an absence (they can come after all)."""
    with transaction.atomic():
        deleted, _ = FacilitatorAbsence.objects.filter(
            session=session, facilitator=facilitator
        ).delete()
        if not deleted:
            raise ValidationError(f"{facilitator.name} was not marked absent.")
        audit_record(
            actor=actor,
            action="facilitator.absence_remove",
            obj=session,
            program_id=session.group.program_id,
            data={"facilitator": facilitator.pk},
        )
