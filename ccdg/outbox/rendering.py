"""What a message says: subject, plain text, HTML and, for a session, the ``.ics``.

Only what a calendar on a phone may show goes into a message: date, time, room, the agenda's
name, whether a presenter is confirmed, links. Never a case, a working title or a case note.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import zoneinfo
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from ccdg.models import OutboxMessage, OutboxOptOut, UnsubscribeToken
from sessions_app.models import (
    Clinician,
    Facilitator,
    FacilitatorAbsence,
    Presentation,
    Program,
    Session,
)
from sessions_app.schedule.calendar import calendar_bytes, event_location

from .scan import OPTIONAL_KINDS, SURVEY_KINDS

K = OutboxMessage.Kind
SUBJECTS = {
    K.LAUNCH: "{program}: your case discussion group starts soon",
    K.LAUNCH_SECOND: "{program}: the first sessions are next week",
    K.SESSION_REMINDER: "Reminder: {group} meets {when}",
    K.PRESENTER_REMINDER: "You present at {group} on {when}",
    K.NO_PRESENTER: "No presenter yet for {group} on {when}",
    K.NEXT_MEETING: "{group} meets next on {when}",
    K.SESSION_RESCHEDULED: "Moved: {group} now meets {when}",
    K.SESSION_CANCELLED: "Cancelled: {group} on {when}",
    K.BACKUP_ALERT: "You lead {group} on {when}",
    K.PRESENTER_PROMOTED: "You present at {group} on {when}",
    K.SURVEY_INVITATION: "{program}: a short survey about your group",
    K.SURVEY_REMINDER: "Reminder: the {program} survey closes {when}",
}


@dataclass
class Rendered:
    subject: str
    text: str
    html: str
    ics: bytes | None
    headers: dict[str, str]

    def email(self, *, to: str) -> EmailMultiAlternatives:
        message = EmailMultiAlternatives(
            subject=self.subject, body=self.text, to=[to], headers=self.headers
        )
        message.attach_alternative(self.html, "text/html")
        if self.ics is not None:
            message.attach("session.ics", self.ics, "text/calendar; method=PUBLISH")
        return message


def unsubscribe_token_value(*, program_id: int, email: str) -> str:
    """The same token for a person and program every time (derived with the secret key)."""
    key = f"ccdg.outbox.unsubscribe:{settings.SECRET_KEY}".encode()
    return hmac.new(key, f"{program_id}:{email.lower()}".encode(), hashlib.sha256).hexdigest()


def unsubscribe_token(*, program_id: int, email: str) -> str:
    """The person's token for the program; only its hash is stored, so a copy of the database
    cannot unsubscribe anyone."""
    token = unsubscribe_token_value(program_id=program_id, email=email)
    UnsubscribeToken.objects.get_or_create(
        token_hash=token_hash(token), defaults={"program_id": program_id, "email": email.lower()}
    )
    return token


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _url(path: str) -> str:
    return f"{settings.BASE_URL}{path}"


def _sessions():
    """Sessions with what a message and its ``.ics`` read: group, program, room, segments."""
    return Session.objects.select_related("group__program", "room").prefetch_related("segments")


def _next_meeting_id(row: OutboxMessage) -> int:
    return int(row.occurrence.split(":", 1)[1])


@dataclass
class Lookups:
    """Everything rendering and the staleness check read, fetched for a whole batch of rows
    with a fixed number of queries (not a few per message): sessions with what their ``.ics``
    needs, which have a confirmed presenter, programs, names, opt-outs, survey links,
    absences, and the unsubscribe tokens (stored with one INSERT)."""

    sessions: dict[int, Session]
    launch_sessions: dict[int, Session]  # program id -> its first scheduled session
    promoted: dict[int, int]  # presentation id -> session id
    confirmed: set[int]  # session ids with a confirmed presenter
    programs: dict[int, Program]
    clinicians: dict[int, str]
    facilitators: dict[int, str]
    opted_out: set[tuple[int, str]]
    links: dict[tuple[int, int], object]  # (wave id, clinician id) -> WaveRecipient
    absences: dict[int, str]  # session id -> absent facilitator's name
    tokens: dict[tuple[int, str], str]  # (program id, email) -> unsubscribe token

    @classmethod
    def load(cls, rows: list[OutboxMessage], *, tokens: bool = True) -> Lookups:
        """``tokens=False``: no unsubscribe tokens (a preview that shows no personal link
        needs none, and must not store them)."""
        by_kind = lambda kinds: [r for r in rows if r.kind in kinds]  # noqa: E731
        promoted = dict(
            Presentation.objects.filter(
                pk__in={r.object_id for r in by_kind({K.PRESENTER_PROMOTED})}
            ).values_list("pk", "session_id")
        )
        session_ids = {
            r.object_id
            for r in rows
            if r.kind not in SURVEY_KINDS
            and r.kind not in (K.LAUNCH, K.LAUNCH_SECOND, K.PRESENTER_PROMOTED, K.NEXT_MEETING)
        }
        session_ids |= {_next_meeting_id(r) for r in by_kind({K.NEXT_MEETING})}
        session_ids |= set(promoted.values())
        sessions = {s.pk: s for s in _sessions().filter(pk__in=session_ids)} if session_ids else {}
        launch_sessions = {}
        for program_id in {r.object_id for r in by_kind({K.LAUNCH, K.LAUNCH_SECOND})}:
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
        programs = {s.group.program_id: s.group.program for s in all_sessions}
        missing = {r.program_id for r in rows} - programs.keys()
        if missing:
            programs.update(Program.objects.in_bulk(missing))
        clinician_ids = {r.recipient_id for r in rows if r.recipient_type == "clinician"}
        facilitator_ids = {r.recipient_id for r in rows if r.recipient_type != "clinician"}
        optional = by_kind(OPTIONAL_KINDS)
        opted_out = set()
        if optional:
            opted_out = set(
                OutboxOptOut.objects.filter(
                    program_id__in={r.program_id for r in optional},
                    email__in={r.email.lower() for r in optional},
                ).values_list("program_id", "email")
            )
        surveys = by_kind(SURVEY_KINDS)
        links = {}
        if surveys:
            from surveys.models import WaveRecipient

            links = {
                (w.wave_id, w.clinician_id): w
                for w in WaveRecipient.objects.select_related("wave").filter(
                    wave_id__in={r.object_id for r in surveys},
                    clinician_id__in={r.recipient_id for r in surveys},
                )
            }
        alerts = by_kind({K.BACKUP_ALERT})
        absences = {}
        if alerts:
            for a in FacilitatorAbsence.objects.filter(
                session_id__in={r.object_id for r in alerts}
            ).select_related("facilitator"):
                absences.setdefault(a.session_id, a.facilitator.name)
        made = {
            (r.program_id, r.email.lower()): unsubscribe_token_value(
                program_id=r.program_id, email=r.email
            )
            for r in (optional if tokens else [])
        }
        if made:
            UnsubscribeToken.objects.bulk_create(
                [
                    UnsubscribeToken(token_hash=token_hash(t), program_id=p, email=e)
                    for (p, e), t in made.items()
                ],
                ignore_conflicts=True,
            )
        return cls(
            sessions=sessions,
            launch_sessions=launch_sessions,
            promoted=promoted,
            confirmed=confirmed,
            programs=programs,
            clinicians=dict(
                Clinician.objects.filter(pk__in=clinician_ids).values_list("pk", "first_name")
            ) if clinician_ids else {},
            facilitators=dict(
                Facilitator.objects.filter(pk__in=facilitator_ids).values_list("pk", "name")
            ) if facilitator_ids else {},
            opted_out=opted_out,
            links=links,
            absences=absences,
            tokens=made,
        )  # fmt: skip

    def session_for(self, row: OutboxMessage) -> Session | None:
        if row.kind in SURVEY_KINDS:
            return None
        if row.kind in (K.LAUNCH, K.LAUNCH_SECOND):
            return self.launch_sessions.get(row.object_id)
        if row.kind == K.PRESENTER_PROMOTED:
            return self.sessions.get(self.promoted.get(row.object_id))
        if row.kind == K.NEXT_MEETING:
            return self.sessions.get(_next_meeting_id(row))
        return self.sessions.get(row.object_id)

    def recipient_name(self, row: OutboxMessage) -> str:
        if row.recipient_type == OutboxMessage.Recipient.CLINICIAN:
            return self.clinicians.get(row.recipient_id, "")
        return self.facilitators.get(row.recipient_id, "")

    def link(self, row: OutboxMessage):
        return self.links.get((row.object_id, row.recipient_id))


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
        session.duration_minutes, session.status, session.agenda_name,
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


# What a preview shows in place of what is each recipient's own: the links (a personal survey
# link answers in that person's name) and, before a wave opens, the first name.
PERSONAL_LINK = "[the recipient's own link]"
UNSUBSCRIBE_LINK = "[the recipient's own unsubscribe link]"
FIRST_NAME = "[first name]"


def _survey_context(
    row: OutboxMessage, context: dict, tz, lookups: Lookups, personal_links: bool
) -> str:
    """The wave, the recipient's own link and the closing date; returns the date as text."""
    from surveys.waves import link_url

    link = lookups.link(row)
    if link is None:
        raise ValueError("The survey link of this message no longer exists.")
    closes = timezone.localtime(link.wave.closes_at, tz)
    context.update(
        wave=link.wave,
        survey_url=link_url(link) if personal_links else PERSONAL_LINK,
        closes=closes,
        tz_name=str(tz),
        anonymous=link.wave.is_anonymous,
    )
    return f"{closes:%a %b} {closes.day}"


def render_message(
    row: OutboxMessage,
    lookups: Lookups | None = None,
    *,
    calendar: bool = True,
    personal_links: bool = True,
) -> Rendered:
    """Render ``row`` as its recipient will read it. Raises on a template error.

    ``lookups``: what a batch fetched for all its rows (``Lookups.load``); without it, fetched
    for this row alone. A preview may leave out the ``.ics`` (``calendar=False``) and show
    placeholders for the recipient's own survey and unsubscribe links
    (``personal_links=False``); the text is otherwise the one sent.
    """
    lookups = lookups or Lookups.load([row])
    session = lookups.session_for(row)
    program = lookups.programs.get(row.program_id)
    if program is None:
        raise Program.DoesNotExist("The program of this message no longer exists.")
    tz = zoneinfo.ZoneInfo(program.timezone)
    context: dict = {
        "row": row,
        "kind": row.kind,
        "program": program,
        "name": lookups.recipient_name(row),
        "session": session,
        "optional": row.kind in OPTIONAL_KINDS,
        "my_sessions_url": _url(reverse("sessions_app:my_sessions", kwargs={"slug": program.slug})),
    }
    headers: dict[str, str] = {}
    ics = None
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
            segments=[seg.title for seg in session.segments.all()],
            presenter_confirmed=confirmed,
            session_url=_url(
                reverse(
                    "sessions_app:session_detail",
                    kwargs={"slug": program.slug, "pk": session.pk},
                )
            ),
        )
        if calendar:
            ics = session_ics(session, name=program.name, confirmed=confirmed)
    if row.kind == K.BACKUP_ALERT:
        context["absent_name"] = lookups.absences.get(row.object_id, "A facilitator")
    if row.kind in SURVEY_KINDS:
        when = _survey_context(row, context, tz, lookups, personal_links)
    if row.kind in OPTIONAL_KINDS:
        if personal_links:
            token = lookups.tokens.get((program.pk, row.email.lower())) or unsubscribe_token(
                program_id=program.pk, email=row.email
            )
            link = _url(reverse("outbox:unsubscribe", kwargs={"token": token}))
        else:
            link = UNSUBSCRIBE_LINK
        context["unsubscribe_url"] = link
        headers["List-Unsubscribe"] = f"<{link}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    subject = SUBJECTS[row.kind].format(program=program.name, group=group, when=when)
    text = render_to_string(f"emails/outbox/{row.kind}.txt", context)
    html = render_to_string(f"emails/outbox/{row.kind}.html", context)
    return Rendered(subject=subject, text=text, html=html, ics=ics, headers=headers)


def survey_invitation_preview(*, wave) -> Rendered:
    """The invitation of a wave not opened yet (``wave`` unsaved), as every recipient will read
    it but for their first name and their own link, which do not exist yet (placeholders)."""
    from surveys.models import WaveRecipient

    row = OutboxMessage(
        program_id=wave.program_id, kind=K.SURVEY_INVITATION, object_id=0,
        recipient_type=OutboxMessage.Recipient.CLINICIAN, recipient_id=0, email="",
    )  # fmt: skip
    lookups = Lookups(
        sessions={}, launch_sessions={}, promoted={}, confirmed=set(),
        programs={wave.program_id: wave.program}, clinicians={0: FIRST_NAME}, facilitators={},
        opted_out=set(), links={(0, 0): WaveRecipient(wave=wave)}, absences={}, tokens={},
    )  # fmt: skip
    return render_message(row, lookups, calendar=False, personal_links=False)
