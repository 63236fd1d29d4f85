"""What a message says: subject, plain text, HTML and, for a session, the ``.ics``.

Only what a calendar on a phone may show goes into a message: date, time, room, the agenda's
name, whether a presenter is confirmed, links. Never a case, a working title or a case note.
"""

from __future__ import annotations

import hashlib
import hmac
import zoneinfo
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

from .scan import OPTIONAL_KINDS

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


def _session_for(row: OutboxMessage) -> Session | None:
    if row.kind in (K.LAUNCH, K.LAUNCH_SECOND):
        return (
            Session.objects.filter(group__program_id=row.object_id, status="scheduled")
            .order_by("starts_at")
            .first()
        )
    if row.kind == K.PRESENTER_PROMOTED:
        p = Presentation.objects.filter(pk=row.object_id).select_related("session").first()
        return p.session if p else None
    if row.kind == K.NEXT_MEETING:
        next_id = int(row.occurrence.split(":", 1)[1])
        return Session.objects.filter(pk=next_id).first()
    return Session.objects.filter(pk=row.object_id).first()


def _recipient_name(row: OutboxMessage) -> str:
    if row.recipient_type == OutboxMessage.Recipient.CLINICIAN:
        c = Clinician.objects.filter(pk=row.recipient_id).first()
        return c.first_name if c else ""
    f = Facilitator.objects.filter(pk=row.recipient_id).first()
    return f.name if f else ""


def render_message(row: OutboxMessage) -> Rendered:
    """Render ``row`` as its recipient will read it. Raises on a template error."""
    program = Program.objects.get(pk=row.program_id)
    session = _session_for(row)
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
        ics = calendar_bytes([session], name=program.name)
    if row.kind == K.BACKUP_ALERT:
        absence = (
            FacilitatorAbsence.objects.filter(session_id=row.object_id)
            .select_related("facilitator")
            .first()
        )
        context["absent_name"] = absence.facilitator.name if absence else "A facilitator"
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
