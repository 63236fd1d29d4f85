"""Which reminders and announcements a program's schedule calls for: launch announcements,
session, presenter and no-presenter reminders, next-meeting notes. Asked by the core's
due-scan and by the forecast (``ccdg.outbox.scan.messages_due``), each function a fixed number
of queries whatever the number of sessions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from django.db.models import Count, OuterRef, Q, Subquery

from ccdg.models import ReminderSettings
from ccdg.outbox.scan import Due, Recipient, useful_from
from sessions_app.presenters.models import Presentation
from sessions_app.programs.models import Program
from sessions_app.reminders import kinds as K
from sessions_app.reminders import recipients as people
from sessions_app.schedule.models import Session

# A next-meeting note more than a day after the session is no longer news.
NEXT_MEETING_USEFUL = timedelta(days=1)


def occurrence_of(session: Session) -> str:
    """A reschedule (new start, higher SEQUENCE) is a new occurrence: it gets new reminders."""
    return f"{session.starts_at.astimezone(UTC).isoformat()}#{session.sequence}"


def session_due(
    *, program: Program, reminder_settings: ReminderSettings, now: datetime, until: datetime
) -> Iterator[Due]:
    """Session reminders (members and facilitators), presenter reminders, and the
    facilitators' alert when nobody has confirmed to present."""
    rs = reminder_settings
    horizon = max(rs.session_days, rs.presenter_days, rs.no_presenter_days)
    sessions = list(
        Session.objects.filter(
            group__program=program,
            status=Session.Status.SCHEDULED,
            starts_at__gt=useful_from(now),
            starts_at__lte=until + timedelta(days=horizon),
        )
        .select_related("group")
        .annotate(confirmed=Count("presentations", filter=Q(presentations__status="confirmed")))
        .order_by("starts_at", "pk")
    )
    if not sessions:
        return
    gids = {s.group_id for s in sessions}
    members, facilitators = people.group_members(gids), people.group_facilitators(gids)
    confirmed = Presentation.objects.filter(
        session__in=sessions, status=Presentation.Status.CONFIRMED
    ).select_related("clinician")
    presenters: dict[int, list[Recipient]] = {}
    for p in confirmed:
        presenters.setdefault(p.session_id, []).append(people.presenter(p))
    for s in sessions:
        occ = occurrence_of(s)
        for kind, days, recipients in (
            (K.SESSION_REMINDER, rs.session_days, members[s.group_id] + facilitators[s.group_id]),
            (K.PRESENTER_REMINDER, rs.presenter_days, presenters.get(s.pk, [])),
            (
                K.NO_PRESENTER,
                rs.no_presenter_days,
                facilitators[s.group_id] if not s.confirmed else [],
            ),
        ):
            due = s.starts_at - timedelta(days=days)
            if due > until or due <= useful_from(now):
                continue
            stale = ""
            if s.starts_at <= max(now, due):
                stale = "The session had already started when this came due."
            yield Due(kind, s.pk, occ, due, recipients, stale, target=s)


def launch_due(
    *, program: Program, reminder_settings: ReminderSettings, now: datetime, until: datetime
) -> Iterator[Due]:
    rs = reminder_settings
    first = (
        Session.objects.filter(group__program=program, status=Session.Status.SCHEDULED)
        .select_related("group")
        .order_by("starts_at", "pk")
        .first()
    )
    if first is None:
        return
    invited = None
    for kind, days in ((K.LAUNCH, rs.launch_days), (K.LAUNCH_SECOND, rs.second_launch_days)):
        due = first.starts_at - timedelta(days=days)
        if due > until or due <= useful_from(now):
            continue
        # Once per program and person: moving the first session does not announce it again.
        stale = ""
        if first.starts_at <= max(now, due):
            stale = "The program had already begun when this came due."
        if invited is None:
            invited = people.invited_clinicians(program.pk)
        yield Due(kind, program.pk, "program", due, invited, stale, target=first)


def next_meeting_due(
    *, program: Program, reminder_settings: ReminderSettings, now: datetime, until: datetime
) -> Iterator[Due]:
    """After a session, its members hear when the group meets next."""
    later = Session.objects.filter(
        group_id=OuterRef("group_id"),
        status=Session.Status.SCHEDULED,
        starts_at__gt=OuterRef("starts_at"),
    ).order_by("starts_at", "pk")
    # The next meeting of each group in the same query (not one query per session).
    ended = [
        s
        for s in Session.objects.filter(
            group__program=program,
            status=Session.Status.SCHEDULED,
            starts_at__gt=useful_from(now),
            starts_at__lte=until,
        )
        .select_related("group")
        .annotate(
            next_id=Subquery(later.values("pk")[:1]),
            next_starts_at=Subquery(later.values("starts_at")[:1]),
        )
        .order_by("starts_at", "pk")
        if s.planned_end <= until and s.next_id is not None
    ]
    if not ended:
        return
    members = people.group_members({s.group_id for s in ended})
    for s in ended:
        end = s.planned_end
        at = max(now, end)
        stale = ""
        if s.next_starts_at <= at:
            stale = "The next meeting had already taken place."
        elif end < at - NEXT_MEETING_USEFUL:
            stale = "More than a day had passed since the session."
        yield Due(K.NEXT_MEETING, s.pk, f"next:{s.next_id}", end, members[s.group_id], stale,
                  target=s)  # fmt: skip
