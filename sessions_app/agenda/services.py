"""Agendas, the writes: the program's agenda templates (checked, saved, copied), the live
view's controls (start, pause, resume, next, extend, reset) and a session's take-home points.

How the live view's clock and segments are computed from the session row is told once, at the
top of :mod:`sessions_app.agenda.selectors` (see also docs/agenda.md). Every control here locks
the row (``select_for_update``) and first records the current segment in ``live_segment``, so
an extension never moves the group back into a segment it had already left.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ccdg import phi
from ccdg.audit import audit_record
from sessions_app.agenda import services
from sessions_app.agenda.models import AgendaSegment, AgendaTemplate, SessionSegment, TakeHomePoint
from sessions_app.agenda.selectors import (
    LIVE_START_EARLY_MINUTES,
    live_start_opens_at,
    live_state,
)
from sessions_app.programs.models import Program
from sessions_app.schedule.models import Session

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


EXTEND_MINUTES = 5
MAX_EXTRA_MINUTES = 120
MAX_TAKE_HOME_POINTS = 5
TAKE_HOME_MAX_CHARS = 300


# --- Agenda text helpers ----------------------------------------------------------------------


def offset_parse(text: str) -> int:
    """Minutes from the start, typed as minutes (``15``) or h:mm (``0:15``, ``1:05``)."""
    value = text.strip()
    if not value:
        raise ValueError("empty")
    if ":" in value:
        hours, _, minutes = value.partition(":")
        if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
            raise ValueError(value)
        if int(minutes) >= 60:
            raise ValueError(value)
        return int(hours) * 60 + int(minutes)
    if not value.isdigit():
        raise ValueError(value)
    return int(value)


def _copy_name(*, program: Program, name: str) -> str:
    taken = set(AgendaTemplate.objects.filter(program=program).values_list("name", flat=True))
    candidate = f"{name} (copy)"[:100]
    number = 2
    while candidate in taken:
        candidate = f"{name} (copy {number})"[:100]
        number += 1
    return candidate


def agenda_template_copy(
    *, template: AgendaTemplate, program: Program, actor: Any
) -> AgendaTemplate:
    """The program's own, editable copy of a template (a built-in one, typically)."""
    return services.agenda_template_save(
        program=program,
        name=_copy_name(program=program, name=template.name),
        duration_minutes=template.duration_minutes,
        segments=[
            {"start_minute": s.start_minute, "title": s.title, "guidance": s.guidance}
            for s in template.segments.all()
        ],
        actor=actor,
    )


def _locked(session: Session) -> tuple[Session, list[SessionSegment]]:
    locked = Session.objects.select_for_update().get(pk=session.pk)
    return locked, list(SessionSegment.objects.filter(session_id=locked.pk))


def _live_restart(session: Session, *, started_at: datetime | None) -> None:
    """Put the live view back at its beginning: running from ``started_at``, or not started
    (None). Start and reset share it, so that no field of the live state is forgotten."""
    session.live_started_at = started_at
    session.live_paused_at = None
    session.live_paused_seconds = 0
    session.live_segment = 0
    session.live_segment_started_at = started_at
    session.live_extra_minutes = 0
    _save_live(
        session,
        "live_started_at",
        "live_paused_at",
        "live_paused_seconds",
        "live_segment",
        "live_segment_started_at",
        "live_extra_minutes",
    )


def _save_live(session: Session, *fields: str) -> None:
    session.save(update_fields=[*fields, "updated_at"])


def _require_started(session: Session) -> None:
    if session.live_started_at is None:
        raise ValidationError("Start the session first.")


def session_live_start(*, session: Session, actor: Any, now: datetime | None = None) -> Session:
    """Start the session clock, from half an hour before the session. Starting a session that
    already runs changes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        session, _ = _locked(session)
        if session.status == Session.Status.CANCELLED:
            raise ValidationError("This session was cancelled.")
        if session.live_started_at is not None:
            return session
        if now < live_start_opens_at(session):
            opens = session.group.program.local(live_start_opens_at(session))
            raise ValidationError(
                "It is too early to start: the live view of this session can be started from "
                f"{opens:%a %b} {opens.day}, {opens.year} at {opens:%H:%M}, "
                f"{LIVE_START_EARLY_MINUTES} minutes before it begins."
            )
        _live_restart(session, started_at=now)
        audit_record(
            actor=actor,
            action="session.live_start",
            obj=session,
            program_id=session.group.program_id,
        )
    return session


def session_live_pause(*, session: Session, actor: Any, now: datetime | None = None) -> Session:
    """Stop the clock. Pausing a paused session changes nothing (two devices may both press)."""
    now = now or timezone.now()
    with transaction.atomic():
        session, segments = _locked(session)
        _require_started(session)
        if session.live_paused_at is not None:
            return session
        session.live_segment = live_state(session, now=now, segments=segments).segment_index
        session.live_paused_at = now
        _save_live(session, "live_segment", "live_paused_at")
    return session


def session_live_resume(*, session: Session, actor: Any, now: datetime | None = None) -> Session:
    """Start the clock again after a pause; the paused time is added to the session."""
    now = now or timezone.now()
    with transaction.atomic():
        session, _ = _locked(session)
        _require_started(session)
        if session.live_paused_at is None:
            return session
        paused = max(0, int((now - session.live_paused_at).total_seconds()))
        session.live_paused_seconds += paused
        session.live_paused_at = None
        _save_live(session, "live_paused_seconds", "live_paused_at")
    return session


def session_live_next(*, session: Session, actor: Any, now: datetime | None = None) -> Session:
    """Move on to the next segment now, ahead of the agenda."""
    now = now or timezone.now()
    with transaction.atomic():
        session, segments = _locked(session)
        _require_started(session)
        state = live_state(session, now=now, segments=segments)
        if state.next_segment_title is None:
            raise ValidationError("This is the last segment.")
        session.live_segment = state.segment_index + 1
        session.live_segment_started_at = now
        _save_live(session, "live_segment", "live_segment_started_at")
    return session


def session_live_extend(
    *,
    session: Session,
    actor: Any,
    minutes: int = EXTEND_MINUTES,
    now: datetime | None = None,
) -> Session:
    """Give the current segment, and so the session, ``minutes`` more."""
    now = now or timezone.now()
    with transaction.atomic():
        session, segments = _locked(session)
        _require_started(session)
        if session.live_extra_minutes + minutes > MAX_EXTRA_MINUTES:
            raise ValidationError(
                f"The session is already {session.live_extra_minutes} minutes longer; "
                f"it cannot grow by more than {MAX_EXTRA_MINUTES}."
            )
        # Record the segment the clock has reached: the extension must not move later
        # boundaries back over a segment the group already left.
        session.live_segment = live_state(session, now=now, segments=segments).segment_index
        session.live_extra_minutes += minutes
        _save_live(session, "live_segment", "live_extra_minutes")
    return session


def session_live_reset(*, session: Session, actor: Any, now: datetime | None = None) -> Session:
    """Clear the live state (clock, segment, pauses, extensions): the session is "not started"
    again, for a clock started by mistake or a rehearsal. Resetting a live view that was not
    started changes nothing and records nothing."""
    with transaction.atomic():
        session, segments = _locked(session)
        if session.live_started_at is None:
            return session
        state = live_state(session, now=now or timezone.now(), segments=segments)
        cleared = {
            "elapsed_seconds": state.elapsed_seconds,
            "segment": state.segment_index,
            "extra_minutes": session.live_extra_minutes,
        }
        _live_restart(session, started_at=None)
        audit_record(
            actor=actor,
            action="session.live_reset",
            obj=session,
            program_id=session.group.program_id,
            data=cleared,
        )
    return session


LIVE_ACTIONS = {
    "start": session_live_start,
    "pause": session_live_pause,
    "resume": session_live_resume,
    "next": session_live_next,
    "extend": session_live_extend,
}


# --- Take-home points -------------------------------------------------------------------------


def check_no_identifiers(text: str) -> list[str]:
    """Patient identifiers in ``text``, one sentence each (the identifier guard, ccdg.phi)."""
    return [f"“{f.text}”: {f.reason}" for f in phi.scan(text)]


def take_home_points_save(*, session: Session, texts: list[str], actor: Any) -> list[TakeHomePoint]:
    """Replace the session's take-home points: all of them, or none with the reasons."""
    points = [t.strip() for t in texts if t.strip()]
    problems: list[str] = []
    if session.status == Session.Status.CANCELLED:
        problems.append("This session was cancelled.")
    if len(points) > MAX_TAKE_HOME_POINTS:
        problems.append(
            f"Keep it to {MAX_TAKE_HOME_POINTS} points at most; there are {len(points)}."
        )
    found_identifiers = False
    for number, text in enumerate(points, start=1):
        if len(text) > TAKE_HOME_MAX_CHARS:
            problems.append(
                f"Point {number} has {len(text)} characters; keep each to {TAKE_HOME_MAX_CHARS}."
            )
        identifiers = check_no_identifiers(text)
        problems.extend(f"Point {number}: {p}" for p in identifiers)
        found_identifiers = found_identifiers or bool(identifiers)
    if found_identifiers:
        problems.append(phi.RULE)
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        Session.objects.select_for_update().filter(pk=session.pk).first()
        TakeHomePoint.objects.filter(session=session).delete()
        created = TakeHomePoint.objects.bulk_create(
            TakeHomePoint(session=session, text=text, created_by=_user(actor)) for text in points
        )
        # The audit trail keeps the count only: the text stays with the group.
        audit_record(
            actor=actor,
            action="session.take_home",
            obj=session,
            program_id=session.group.program_id,
            data={"points": len(points)},
        )
    return created


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None
