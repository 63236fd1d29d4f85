"""What a message about a program's schedule says: the context of its templates and, for a
session, the ``.ics``; what a batch of such rows needs fetched; the re-check when one is sent.

Only what a calendar on a phone may show goes into a message: date, time, room, the agenda's
name, whether a presenter is confirmed, links. Never a case, a working title or a case note.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from django.urls import reverse
from django.utils import timezone

from ccdg.models import OutboxMessage
from ccdg.outbox.kinds import Attachment, Content
from ccdg.outbox.rendering import absolute_url
from ccdg.outbox.scan import Due
from sessions_app.groups.models import Facilitator
from sessions_app.presenters.models import Presentation
from sessions_app.programs.models import Program
from sessions_app.reminders import kinds as K
from sessions_app.roster.models import Clinician
from sessions_app.schedule.calendar import calendar_bytes, event_location
from sessions_app.schedule.models import FacilitatorAbsence, Session

# The kinds whose row is about a session (``object_id``) that must still be ahead when sent.
SESSION_KINDS = frozenset(
    {
        K.SESSION_REMINDER,
        K.PRESENTER_REMINDER,
        K.NO_PRESENTER,
        K.SESSION_RESCHEDULED,
        K.SESSION_CANCELLED,
        K.BACKUP_ALERT,
    }
)
LAUNCH_KINDS = frozenset({K.LAUNCH, K.LAUNCH_SECOND})


@dataclass
class Addressees:
    """The programs of a batch of rows and the first names of their recipients: what every
    message to a program's people reads (surveys' messages too)."""

    programs: dict[int, Program]
    clinicians: dict[int, str]
    facilitators: dict[int, str]

    @staticmethod
    def names(rows: list[OutboxMessage]) -> tuple[dict[int, str], dict[int, str]]:
        """First names of the clinicians, names of the facilitators the rows go to."""
        clinician_ids = {r.recipient_id for r in rows if r.recipient_type == "clinician"}
        facilitator_ids = {r.recipient_id for r in rows if r.recipient_type != "clinician"}
        return (
            dict(Clinician.objects.filter(pk__in=clinician_ids).values_list("pk", "first_name"))
            if clinician_ids else {},
            dict(Facilitator.objects.filter(pk__in=facilitator_ids).values_list("pk", "name"))
            if facilitator_ids else {},
        )  # fmt: skip

    @staticmethod
    def programs_of(rows: list[OutboxMessage], known: dict[int, Program]) -> dict[int, Program]:
        """``known`` and the other programs of the rows, fetched in one query."""
        programs = dict(known)
        missing = {r.program_id for r in rows} - programs.keys()
        if missing:
            programs.update(Program.objects.in_bulk(missing))
        return programs

    def recipient_name(self, row: OutboxMessage) -> str:
        if row.recipient_type == OutboxMessage.Recipient.CLINICIAN:
            return self.clinicians.get(row.recipient_id, "")
        return self.facilitators.get(row.recipient_id, "")

    def program_of(self, row: OutboxMessage) -> Program:
        program = self.programs.get(row.program_id)
        if program is None:
            raise Program.DoesNotExist("The program of this message no longer exists.")
        return program

    def base_context(self, row: OutboxMessage, program: Program) -> dict:
        """What every message to a program's people shows: the program, the first name, and a
        link to the person's sessions."""
        return {
            "program": program,
            "name": self.recipient_name(row),
            "session": None,
            "my_sessions_url": absolute_url(
                reverse("sessions_app:my_sessions", kwargs={"slug": program.slug})
            ),
        }


def _sessions():
    """Sessions with what a message and its ``.ics`` read: group, program, room, segments."""
    return Session.objects.select_related("group__program", "room").prefetch_related("segments")


def _next_meeting_id(row: OutboxMessage) -> int:
    return int(row.occurrence.split(":", 1)[1])


@dataclass
class SessionLookups(Addressees):
    """What the messages about sessions of a batch read, fetched at once: sessions with what
    their ``.ics`` needs, which have a confirmed presenter, the programs, names, absences."""

    sessions: dict[int, Session] = field(default_factory=dict)
    launch_sessions: dict[int, Session] = field(default_factory=dict)  # program id -> first
    promoted: dict[int, int] = field(default_factory=dict)  # presentation id -> session id
    confirmed: set[int] = field(default_factory=set)  # sessions with a confirmed presenter
    absences: dict[int, str] = field(default_factory=dict)  # session id -> absent one's name

    @classmethod
    def load(cls, rows: list[OutboxMessage]) -> SessionLookups:
        by_kind = lambda kinds: [r for r in rows if r.kind in kinds]  # noqa: E731
        promoted = dict(
            Presentation.objects.filter(
                pk__in={r.object_id for r in by_kind({K.PRESENTER_PROMOTED})}
            ).values_list("pk", "session_id")
        )
        session_ids = {r.object_id for r in by_kind(SESSION_KINDS)}
        session_ids |= {_next_meeting_id(r) for r in by_kind({K.NEXT_MEETING})}
        session_ids |= set(promoted.values())
        sessions = {s.pk: s for s in _sessions().filter(pk__in=session_ids)} if session_ids else {}
        launch_sessions = {}
        for program_id in {r.object_id for r in by_kind(LAUNCH_KINDS)}:
            first = (
                _sessions()
                .filter(group__program_id=program_id, status="scheduled")
                .order_by("starts_at")
                .first()
            )
            if first is not None:
                launch_sessions[program_id] = first
        all_sessions = [*sessions.values(), *launch_sessions.values()]
        confirmed = set(
            Presentation.objects.filter(
                session_id__in={s.pk for s in all_sessions},
                status=Presentation.Status.CONFIRMED,
            ).values_list("session_id", flat=True)
        ) if all_sessions else set()  # fmt: skip
        alerts = by_kind({K.BACKUP_ALERT})
        absences: dict[int, str] = {}
        if alerts:
            for a in FacilitatorAbsence.objects.filter(
                session_id__in={r.object_id for r in alerts}
            ).select_related("facilitator"):
                absences.setdefault(a.session_id, a.facilitator.name)
        clinicians, facilitators = cls.names(rows)
        known = {s.group.program_id: s.group.program for s in all_sessions}
        return cls(
            programs=cls.programs_of(rows, known),
            clinicians=clinicians,
            facilitators=facilitators,
            sessions=sessions,
            launch_sessions=launch_sessions,
            promoted=promoted,
            confirmed=confirmed,
            absences=absences,
        )  # fmt: skip

    def session_for(self, row: OutboxMessage) -> Session | None:
        if row.kind in LAUNCH_KINDS:
            return self.launch_sessions.get(row.object_id)
        if row.kind == K.PRESENTER_PROMOTED:
            return self.sessions.get(self.promoted.get(row.object_id))
        if row.kind == K.NEXT_MEETING:
            return self.sessions.get(_next_meeting_id(row))
        return self.sessions.get(row.object_id)


# The .ics of a session is the same for every recipient: build it once per process. The key
# holds everything that goes into it (not only id and SEQUENCE: a presenter confirming or a
# room being renamed changes the event without a new SEQUENCE), so a hit is byte-identical to
# building it again. Small and bounded: a worker sends one session's reminders at a time.
ICS_CACHE_SIZE = 64
_ics_cache: OrderedDict[tuple, bytes] = OrderedDict()
_ics_lock = threading.Lock()


def _ics_key(session: Session, *, name: str, confirmed: bool) -> tuple | None:
    if session.updated_at is None:  # DTSTAMP would be "now": nothing stable to share
        return None
    room = session.room
    program = session.group.program
    return (
        session.pk, session.sequence, session.updated_at, session.uid, session.starts_at,
        session.duration_minutes, session.status, session.agenda_name, session.mode,
        session.meeting_url,
        (room.name, room.location) if room is not None else None,
        session.group.name, program.name, program.timezone, name, confirmed,
        tuple((seg.start_minute, seg.title) for seg in session.segments.all()),
    )  # fmt: skip


def session_ics(session: Session, *, name: str, confirmed: bool) -> bytes:
    """``calendar_bytes([session], name=name)``, built once per distinct session state."""
    session.presenter_confirmed = confirmed  # read by the event description (no query)
    key = _ics_key(session, name=name, confirmed=confirmed)
    if key is not None:
        with _ics_lock:
            cached = _ics_cache.get(key)
            if cached is not None:
                _ics_cache.move_to_end(key)
                return cached
    ics = calendar_bytes([session], name=name)
    if key is not None:
        with _ics_lock:
            _ics_cache[key] = ics
            while len(_ics_cache) > ICS_CACHE_SIZE:
                _ics_cache.popitem(last=False)
    return ics


def session_context(
    row: OutboxMessage, lookups: SessionLookups, *, personal_links: bool, attachments: bool
) -> Content:
    """The program, the recipient's name and, when the message is about a session, when and
    where it meets, its agenda, whether a presenter is confirmed, and its ``.ics``."""
    program = lookups.program_of(row)
    tz = program.tz
    session = lookups.session_for(row)
    context = lookups.base_context(row, program)
    context["session"] = session
    attachment = None
    when = ""
    group = ""
    if session is not None:
        start = timezone.localtime(session.starts_at, tz)
        when = f"{start:%a %b} {start.day} at {start:%H:%M}"
        group = session.group.name
        confirmed = session.pk in lookups.confirmed
        context.update(
            starts=start,
            when=when,
            tz_name=program.timezone,
            room=event_location(session),
            agenda_name=session.agenda_name,
            theme=session.theme,
            meeting_url=session.meeting_url if session.is_online else "",
            segments=[seg.title for seg in session.segments.all()],
            presenter_confirmed=confirmed,
            session_url=absolute_url(
                reverse(
                    "sessions_app:session_detail",
                    kwargs={"slug": program.slug, "pk": session.pk},
                )
            ),
        )
        if attachments:
            ics = session_ics(session, name=program.name, confirmed=confirmed)
            attachment = Attachment("session.ics", ics, "text/calendar; method=PUBLISH")
    if row.kind == K.BACKUP_ALERT:
        context["absent_name"] = lookups.absences.get(row.object_id, "A facilitator")
    return Content(
        context=context,
        subject_fields={"program": program.name, "group": group, "when": when},
        attachment=attachment,
    )


def session_recheck(row: OutboxMessage, lookups: SessionLookups, now: datetime) -> str:
    """Why a message about a session is no longer worth sending ("" when it is)."""
    if row.kind not in SESSION_KINDS:
        return ""
    session = lookups.sessions.get(row.object_id)
    if session is None:
        return "The session no longer exists."
    if session.starts_at <= now:
        return "The session had already started."
    cancelled = session.status == Session.Status.CANCELLED
    if cancelled and row.kind != K.SESSION_CANCELLED:
        return "The session was cancelled."
    if row.kind == K.NO_PRESENTER and session.pk in lookups.confirmed:
        return "A presenter confirmed in the meantime."
    return ""


def session_describe(due: Due, tz: tzinfo) -> str:
    """What the message is about, in the program's time zone (the forecast's line)."""
    session = due.target
    start = timezone.localtime(session.starts_at, tz)
    when = f"{start:%a %b} {start.day}, {start:%H:%M}"
    if due.kind in LAUNCH_KINDS:
        return f"First session: {session.group.name}, {when}"
    if due.kind == K.NEXT_MEETING:
        return f"After {session.group.name}, {when}"
    return f"{session.group.name}, {when}"
