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

from ccdg.models import OutboxMessage, UnsubscribeToken
from sessions_app.calendar import calendar_bytes, event_location
from sessions_app.models import (
    Clinician,
    Facilitator,
    FacilitatorAbsence,
    Presentation,
    Program,
    Session,
)

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


def unsubscribe_token(*, program_id: int, email: str) -> str:
    """The same token for a person and program every time (derived with the secret key); only
    its hash is stored, so a copy of the database cannot unsubscribe anyone."""
    key = f"ccdg.outbox.unsubscribe:{settings.SECRET_KEY}".encode()
    token = hmac.new(key, f"{program_id}:{email.lower()}".encode(), hashlib.sha256).hexdigest()
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


def _session_for(row: OutboxMessage) -> Session | None:
    if row.kind in SURVEY_KINDS:
        return None
    if row.kind in (K.LAUNCH, K.LAUNCH_SECOND):
        return (
            _sessions()
            .filter(group__program_id=row.object_id, status="scheduled")
            .order_by("starts_at")
            .first()
        )
    if row.kind == K.PRESENTER_PROMOTED:
        p = Presentation.objects.filter(pk=row.object_id).values_list("session_id", flat=True)
        session_id = p.first()
        return _sessions().filter(pk=session_id).first() if session_id is not None else None
    if row.kind == K.NEXT_MEETING:
        next_id = int(row.occurrence.split(":", 1)[1])
        return _sessions().filter(pk=next_id).first()
    return _sessions().filter(pk=row.object_id).first()


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


def _recipient_name(row: OutboxMessage) -> str:
    if row.recipient_type == OutboxMessage.Recipient.CLINICIAN:
        c = Clinician.objects.filter(pk=row.recipient_id).first()
        return c.first_name if c else ""
    f = Facilitator.objects.filter(pk=row.recipient_id).first()
    return f.name if f else ""


def _survey_context(row: OutboxMessage, context: dict, tz) -> str:
    """The wave, the recipient's own link and the closing date; returns the date as text."""
    from surveys.models import WaveRecipient
    from surveys.waves import link_url

    link = (
        WaveRecipient.objects.select_related("wave")
        .filter(wave_id=row.object_id, clinician_id=row.recipient_id)
        .first()
    )
    if link is None:
        raise ValueError("The survey link of this message no longer exists.")
    closes = timezone.localtime(link.wave.closes_at, tz)
    context.update(
        wave=link.wave,
        survey_url=link_url(link),
        closes=closes,
        tz_name=str(tz),
        anonymous=link.wave.is_anonymous,
    )
    return f"{closes:%a %b} {closes.day}"


def render_message(row: OutboxMessage) -> Rendered:
    """Render ``row`` as its recipient will read it. Raises on a template error."""
    session = _session_for(row)
    if session is not None and session.group.program_id == row.program_id:
        program = session.group.program  # fetched with the session
    else:
        program = Program.objects.get(pk=row.program_id)
    tz = zoneinfo.ZoneInfo(program.timezone)
    context: dict = {
        "row": row,
        "kind": row.kind,
        "program": program,
        "name": _recipient_name(row),
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
        confirmed = session.presentations.filter(status=Presentation.Status.CONFIRMED).exists()
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
        ics = session_ics(session, name=program.name, confirmed=confirmed)
    if row.kind == K.BACKUP_ALERT:
        absence = (
            FacilitatorAbsence.objects.filter(session_id=row.object_id)
            .select_related("facilitator")
            .first()
        )
        context["absent_name"] = absence.facilitator.name if absence else "A facilitator"
    if row.kind in SURVEY_KINDS:
        when = _survey_context(row, context, tz)
    if row.kind in OPTIONAL_KINDS:
        token = unsubscribe_token(program_id=program.pk, email=row.email)
        link = _url(reverse("outbox:unsubscribe", kwargs={"token": token}))
        context["unsubscribe_url"] = link
        headers["List-Unsubscribe"] = f"<{link}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    subject = SUBJECTS[row.kind].format(program=program.name, group=group, when=when)
    text = render_to_string(f"emails/outbox/{row.kind}.txt", context)
    html = render_to_string(f"emails/outbox/{row.kind}.html", context)
    return Rendered(subject=subject, text=text, html=html, ics=ics, headers=headers)
