"""Reading agendas: the program's templates, the facilitator's agenda page and the live
view's state.

Live view timing (see also docs/agenda.md)
------------------------------------------
The state lives on the session row (``live_*`` fields), so a reload or a second device shows
the same thing. Everything shown is computed from those fields and ``now`` by
:func:`live_state`, a pure function, so tests control the clock by passing ``now`` (or by
writing past timestamps into the row).

* **Session clock.** ``elapsed`` is the running time since ``live_started_at`` minus the time
  spent paused: ``live_paused_seconds`` holds the finished pauses, and while paused
  (``live_paused_at`` set) the clock stands still at ``live_paused_at``.
* **Planned length.** The session lasts ``duration_minutes + live_extra_minutes`` on the
  session clock. Time left overall is that minus ``elapsed``.
* **Segments follow the agenda.** Segment *i* begins when the clock reaches its offset
  ``start_minute`` plus the extensions (``live_extra_minutes``); it ends where the next one
  begins, the last one at the planned end.
* **Extend** (+5 minutes) lengthens the current segment and the session: every later segment
  and the end move 5 minutes later.
* **Next** jumps to the following segment at once (``live_segment``); the skipped minutes go
  to the new segment, later segments keep their planned times and the end does not move.
  The current segment is the later of the one reached by the clock and ``live_segment``, so
  a segment never goes backwards.
* **Pause** stops the clock (segments and end move later by the paused time); **resume**
  starts it again.
* **Warning**: a started session with 5 minutes or less left overall.

Every change (start, pause, resume, next, extend) is a service that locks the row
(``select_for_update``) and first records the current segment in ``live_segment``, so an
extension never moves the group back into a segment it had already left.

* **Start window.** The clock can be started from ``LIVE_START_EARLY_MINUTES`` before the
  session, not days ahead (a stray click on the agenda page would otherwise leave a session
  "over" before it begins).
* **Reset** clears the live state (audited): the session shows "Not started" again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from ccdg import phi
from sessions_app import roles
from sessions_app.agenda.models import AgendaTemplate, SessionSegment, TakeHomePoint
from sessions_app.groups.models import GroupMembership
from sessions_app.presenters.models import Presentation, Rsvp
from sessions_app.programs.models import Program
from sessions_app.schedule.models import Session

LIVE_START_EARLY_MINUTES = 30
WARNING_SECONDS = 5 * 60

GROUND_RULES = (
    "What is said in the group stays in the group.",
    phi.RULE,
    "The group is not hierarchical and is not teaching: everyone takes part as a colleague.",
    "We do not solve the presenter's problem; we reflect on the clinician-patient relationship.",
    "Keep technical and medical details to a minimum.",
)

FACILITATOR_PROMPTS = (
    "Keep listeners from solving the presenter's problem: bring them back to the relationship "
    "and to what the presenter felt.",
    "Steer away from “me too” stories: keep the focus on the presenter's case.",
    "Go around the room one by one during the interpretation, so each listener speaks.",
    "Alert the group to the approaching end about 5 minutes before it.",
    "At wrap-up, gather last comments and a few take-home points (no patient identifiers), and "
    "remind everyone of the next meeting.",
)


def offset_format(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


def duration_format(seconds: int) -> str:
    """``m:ss`` for a countdown (never negative)."""
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


# --- Agenda templates -------------------------------------------------------------------------


def agenda_template_list(*, program: Program) -> list[AgendaTemplate]:
    """The built-in templates, then the program's own, each with its segments (two queries).
    Each segment carries ``offset``, its start as h:mm."""
    templates = list(
        roles.agenda_templates_usable(program)
        .prefetch_related("segments")
        .order_by("-built_in", "name")
    )
    for template in templates:
        for segment in template.segments.all():
            segment.offset = offset_format(segment.start_minute)
    return templates


def agenda_template_get(*, program: Program, pk: int, editable: bool = False) -> AgendaTemplate:
    """A template the program may use (a built-in or its own); ``editable``: its own only."""
    return roles.agenda_templates_usable(program, editable=editable).get(pk=pk)


def agenda_upcoming_count(*, program: Program) -> int:
    """How many sessions "apply to upcoming sessions" would change (the rule of
    :func:`scheduling.agenda_apply_to_upcoming`)."""
    return Session.objects.filter(
        group__program=program,
        status=Session.Status.SCHEDULED,
        starts_at__gt=timezone.now(),
        live_started_at__isnull=True,
    ).count()


# --- The facilitator's agenda page ------------------------------------------------------------


@dataclass(frozen=True)
class AgendaRow:
    start_minute: int
    offset: str
    at: datetime  # local time in the program's time zone
    title: str
    guidance: str


@dataclass(frozen=True)
class Attendee:
    name: str
    discipline: str
    rsvp: str  # "", "going" or "not_going"

    @property
    def not_going(self) -> bool:
        return self.rsvp == Rsvp.Answer.NOT_GOING


@dataclass(frozen=True)
class Presenter:
    name: str
    working_title: str


@dataclass
class SessionAgenda:
    session: Session
    starts_at: datetime
    ends_at: datetime
    rows: list[AgendaRow]
    presenters: list[Presenter]
    attendees: list[Attendee]
    facilitators: list[tuple[str, str]]
    next_session: Session | None
    next_starts_at: datetime | None
    take_home: list[TakeHomePoint]
    ground_rules: Sequence[str] = GROUND_RULES
    prompts: Sequence[str] = FACILITATOR_PROMPTS
    expected: int = field(init=False)

    def __post_init__(self) -> None:
        self.expected = sum(1 for a in self.attendees if not a.not_going)


def session_agenda_get(*, session: Session) -> SessionAgenda:
    """Everything the facilitator's agenda page shows, in a fixed number of queries."""
    program = session.group.program
    segments = list(session.segments.all())
    rows = [
        AgendaRow(
            start_minute=s.start_minute,
            offset=offset_format(s.start_minute),
            at=program.local(session.starts_at + timedelta(minutes=s.start_minute)),
            title=s.title,
            guidance=s.guidance,
        )
        for s in segments
    ]
    presenters = [
        Presenter(name=p.clinician.full_name, working_title=p.working_title)
        for p in Presentation.objects.filter(session=session, status=Presentation.Status.CONFIRMED)
        .select_related("clinician")
        .order_by("slot", "id")
    ]
    answers = dict(Rsvp.objects.filter(session=session).values_list("clinician_id", "answer"))
    attendees = [
        Attendee(
            name=m.clinician.full_name,
            discipline=m.clinician.get_discipline_display(),
            rsvp=answers.get(m.clinician_id, ""),
        )
        for m in GroupMembership.objects.filter(group_id=session.group_id)
        .current()
        .select_related("clinician")
        .order_by("clinician__last_name", "clinician__first_name")
    ]
    facilitators = [
        (a.facilitator.name, a.get_role_display())
        for a in session.group.facilitations.current()
        .select_related("facilitator")
        .order_by("role", "facilitator__name")
    ]
    next_session = (
        Session.objects.filter(
            group_id=session.group_id,
            status=Session.Status.SCHEDULED,
            starts_at__gt=session.starts_at,
        )
        .select_related("room")
        .order_by("starts_at")
        .first()
    )
    return SessionAgenda(
        session=session,
        starts_at=program.local(session.starts_at),
        ends_at=program.local(session.planned_end),
        rows=rows,
        presenters=presenters,
        attendees=attendees,
        facilitators=facilitators,
        next_session=next_session,
        next_starts_at=(
            program.local(next_session.starts_at) if next_session is not None else None
        ),
        take_home=list(session.take_home.all()),
    )


# --- Live view --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveState:
    """What the live view shows at one moment. Times are whole seconds of the session clock."""

    server_time: str
    started: bool
    paused: bool
    finished: bool
    warning: bool
    elapsed_seconds: int
    total_seconds: int
    extra_minutes: int
    segment_index: int
    segment_count: int
    segment_title: str
    segment_guidance: str
    segment_offset: str
    seconds_left_segment: int
    seconds_left_overall: int
    overtime_seconds: int
    next_segment_title: str | None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def segment_left_label(self) -> str:
        return duration_format(self.seconds_left_segment)

    @property
    def overall_left_label(self) -> str:
        return duration_format(self.seconds_left_overall)


def _elapsed(session: Session, now: datetime) -> int:
    if session.live_started_at is None:
        return 0
    clock_end = session.live_paused_at or now
    seconds = (clock_end - session.live_started_at).total_seconds() - session.live_paused_seconds
    return max(0, int(seconds))


def live_state(
    session: Session, *, now: datetime, segments: Sequence[SessionSegment] | None = None
) -> LiveState:
    """The live view's state at ``now``: pure, it reads the row and the agenda, writes nothing.

    ``segments`` defaults to the session's agenda copy (one query, or none when prefetched).
    The rules are in this module's docstring.
    """
    if segments is None:
        segments = list(session.segments.all())
    starts = [s.start_minute for s in segments] or [0]
    titles = [s.title for s in segments] or ["Session"]
    guidance = [s.guidance for s in segments] or [""]
    count = len(starts)
    extra = session.live_extra_minutes
    total = (session.duration_minutes + extra) * 60
    # Segment i ends where segment i + 1 begins (its offset plus the extensions).
    ends = [(start + extra) * 60 for start in starts[1:]] + [total]
    started = session.live_started_at is not None
    elapsed = _elapsed(session, now)
    reached = sum(1 for end in ends[:-1] if end <= elapsed) if started else 0
    index = min(max(reached, session.live_segment if started else 0), count - 1)
    left_overall = total - elapsed
    return LiveState(
        server_time=now.isoformat(),
        started=started,
        paused=started and session.live_paused_at is not None,
        finished=started and left_overall <= 0,
        warning=started and left_overall <= WARNING_SECONDS,
        elapsed_seconds=elapsed,
        total_seconds=total,
        extra_minutes=extra,
        segment_index=index,
        segment_count=count,
        segment_title=titles[index],
        segment_guidance=guidance[index],
        segment_offset=offset_format(starts[index]),
        seconds_left_segment=max(0, ends[index] - elapsed),
        seconds_left_overall=max(0, left_overall),
        overtime_seconds=max(0, -left_overall),
        next_segment_title=titles[index + 1] if index + 1 < count else None,
    )


def live_start_opens_at(session: Session) -> datetime:
    """The earliest moment the session's live view may be started."""
    return session.starts_at - timedelta(minutes=LIVE_START_EARLY_MINUTES)
