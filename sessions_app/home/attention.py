"""The program's part of the coordinator's "needs attention" list (``ccdg.attention``):
upcoming sessions without a confirmed presenter, a room, a refreshment order or an available
facilitator; reminders that failed; invitations not accepted. Registered in
``SessionsAppConfig.ready()``; each provider runs a fixed number of queries."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Prefetch, Q
from django.urls import reverse
from django.utils.formats import date_format

from ccdg.attention import Item
from ccdg.outbox.services import outbox_counts
from sessions_app.groups.models import FacilitatorAssignment
from sessions_app.presenters.models import Presentation
from sessions_app.programs.models import Program
from sessions_app.roster.models import Invitation
from sessions_app.schedule.models import FacilitatorAbsence, Session
from sessions_app.schedule.selectors import cover_of, meeting_dates

# An invitation this old and not accepted is worth a nudge.
INVITATION_NUDGE = timedelta(days=7)


def _when(program: Program, moment: datetime) -> str:
    return date_format(program.local(moment), "D M j")


def sessions_attention(*, program: Program, now: datetime, until: datetime) -> list[Item]:
    """Scheduled sessions before ``until``: no confirmed presenter, no facilitator available
    (lead and backups all absent). Three queries."""
    confirmed = Presentation.objects.filter(status=Presentation.Status.CONFIRMED)
    sessions = (
        Session.objects.filter(
            group__program=program, status=Session.Status.SCHEDULED,
            starts_at__gte=now, starts_at__lt=until,
        )
        .select_related("group")
        .annotate(presenters=Count("presentations", filter=Q(presentations__in=confirmed)))
        .prefetch_related(
            Prefetch(
                "group__facilitations",
                queryset=FacilitatorAssignment.objects.current().select_related("facilitator"),
                to_attr="current_facilitations",
            ),
            Prefetch(
                "absences",
                queryset=FacilitatorAbsence.objects.select_related("facilitator"),
                to_attr="absence_list",
            ),
        )
        .order_by("starts_at", "group__name")
    )  # fmt: skip
    items = []
    for s in sessions:
        where = f"{s.group.name}, {_when(program, s.starts_at)}"
        cover = cover_of(facilitations=s.group.current_facilitations, absences=s.absence_list)
        if cover.acting_lead is None:
            why = (
                "the group has no facilitator"
                if cover.lead is None and not cover.backups
                else "lead and backups absent"
            )
            items.append(Item(
                kind="session.no_facilitator", level="danger", when=s.starts_at,
                text=f"{where}: no facilitator available ({why})",
                url=reverse("sessions_app:session_coverage", args=[program.slug]),
                action="Find cover",
            ))  # fmt: skip
        if s.presenters < 1:
            items.append(Item(
                kind="session.no_presenter", when=s.starts_at,
                text=f"{where}: no presenter confirmed",
                url=reverse("sessions_app:session_presenters", args=[program.slug, s.pk]),
                action="Ask someone",
            ))  # fmt: skip
    return items


def meeting_days_attention(*, program: Program, now: datetime, until: datetime) -> list[Item]:
    """Meeting days before ``until``: sessions without a room, refreshments not confirmed.
    Five queries (:func:`meeting_dates`)."""
    start, end = program.local_day(now), program.local_day(until)
    items = []
    for day in meeting_dates(program=program, start=start, end=end):
        label = date_format(day.date, "D M j")
        when = program.at(day.date, day.sessions[0].local_start.time()) if day.sessions else None
        for s in day.without_room:
            items.append(Item(
                kind="session.no_room", when=when,
                text=f"{s.group.name}, {label}: no room booked",
                url=reverse("sessions_app:session_detail", args=[program.slug, s.pk]),
                action="Book a room",
            ))  # fmt: skip
        if not day.order_confirmed:
            state = day.order.get_status_display().lower() if day.order else "not ordered yet"
            items.append(Item(
                kind="day.refreshments", level="info", when=when,
                text=f"{label}: refreshments {state} ({day.suggested_headcount} expected)",
                url=reverse("sessions_app:refreshment_list", args=[program.slug]),
                action="Order",
            ))  # fmt: skip
    return items


def messages_attention(*, program: Program, now: datetime, until: datetime) -> list[Item]:
    """Reminders and invitations the outbox could not send. One query."""
    failed = outbox_counts(program=program)["failed"]
    if not failed:
        return []
    return [Item(
        kind="outbox.failed", level="danger",
        text=f"{failed} message{'s' if failed != 1 else ''} could not be sent",
        url=reverse("outbox:outbox", args=[program.slug]) + "?tab=failed",
        action="Review",
    )]  # fmt: skip


def invitations_attention(*, program: Program, now: datetime, until: datetime) -> list[Item]:
    """Open invitations sent more than a week ago and not accepted. One query."""
    waiting = Invitation.objects.filter(
        Q(clinician__program=program) | Q(facilitator__program=program) | Q(program=program),
        used_at__isnull=True, revoked_at__isnull=True,
        expires_at__gt=now, created_at__lte=now - INVITATION_NUDGE,
    ).count()  # fmt: skip
    if not waiting:
        return []
    return [Item(
        kind="roster.invitations", level="info",
        text=f"{waiting} invitation{'s' if waiting != 1 else ''} not accepted after a week",
        url=reverse("sessions_app:roster_list", args=[program.slug]) + "?status=invited",
        action="Remind",
    )]  # fmt: skip


def register() -> None:
    from ccdg import attention

    attention.register("sessions", sessions_attention)
    attention.register("meeting_days", meeting_days_attention)
    attention.register("messages", messages_attention)
    attention.register("invitations", invitations_attention)
