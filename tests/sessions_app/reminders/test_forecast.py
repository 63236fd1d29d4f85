"""The outbox's Upcoming tab: what the reminder schedule will queue in the next 30 days, before
any row exists; the same rules as the due-scan, the same text as the message sent."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ccdg.models import OutboxMessage, OutboxOptOut
from ccdg.outbox.rendering import PERSONAL_LINK, UNSUBSCRIBE_LINK
from ccdg.outbox.scan import reminders_scan
from ccdg.outbox.sending import outbox_send
from sessions_app.models import Clinician, Session
from sessions_app.reminders import kinds as K
from sessions_app.reminders.forecast import outbox_forecast
from sessions_app.reminders.views import PLANNED_DETAILED, PLANNED_LISTED
from surveys import waves
from surveys.models import Wave, WaveRecipient
from surveys.outbox_kinds import SURVEY_REMINDER
from tests.factories import (
    ClinicianFactory,
    FacilitatorAssignmentFactory,
    GroupFactory,
    GroupMembershipFactory,
    PresentationFactory,
    ProgramFactory,
    ProgramRoleFactory,
    SessionFactory,
)

S = OutboxMessage.Status
pytestmark = pytest.mark.django_db


def at(days: float, hour: int = 9):
    """``days`` from now at ``hour``:00 UTC, so that due times do not fall on the hour of now."""
    now = timezone.now()
    return (now + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


def upcoming(client, program):
    return client.get(reverse("outbox:outbox", kwargs={"slug": program.slug}) + "?tab=upcoming")


def group_of(program, n: int = 3, *, name: str = ""):
    """A group with ``n`` members and a lead facilitator."""
    group = GroupFactory(program=program, **({"name": name} if name else {}))
    for _ in range(n):
        GroupMembershipFactory(group=group)
    FacilitatorAssignmentFactory(group=group)
    return group


def planned_of(response) -> set[tuple]:
    return {
        (p.due.kind, p.due.object_id, p.due.due_at, p.recipient_count)
        for p in response.context["planned"]
    }


def test_upcoming_lists_the_planned_reminders_of_the_next_30_days_only(program, coordinator_client):
    group = group_of(program)  # 3 members + 1 facilitator
    soon, later, beyond = (SessionFactory(group=group, starts_at=at(d)) for d in (10, 20, 40))
    cancelled = SessionFactory(group=group, starts_at=at(15), status=Session.Status.CANCELLED)

    response = upcoming(coordinator_client, program)

    assert response.status_code == 200
    assert planned_of(response) == {
        (K.SESSION_REMINDER, soon.pk, soon.starts_at - timedelta(days=7), 4),
        (K.NO_PRESENTER, soon.pk, soon.starts_at - timedelta(days=7), 1),
        (K.SESSION_REMINDER, later.pk, later.starts_at - timedelta(days=7), 4),
        (K.NO_PRESENTER, later.pk, later.starts_at - timedelta(days=7), 1),
        # The next meeting after each: the cancelled one is no meeting.
        (K.NEXT_MEETING, soon.pk, soon.starts_at + timedelta(minutes=60), 3),
        (K.NEXT_MEETING, later.pk, later.starts_at + timedelta(minutes=60), 3),
    }
    notes = {p.due.object_id: p.due.occurrence for p in response.context["planned"]
             if p.due.kind == K.NEXT_MEETING}  # fmt: skip
    assert notes == {soon.pk: f"next:{later.pk}", later.pk: f"next:{beyond.pk}"}
    ids = {p.due.object_id for p in response.context["planned"]}
    assert beyond.pk not in ids and cancelled.pk not in ids
    assert response.context["counts"]["upcoming"] == 16
    assert OutboxMessage.objects.count() == 0  # a forecast, nothing queued
    html = response.content.decode()
    assert f"Reminder: {group.name} meets" in html
    assert "Your group, " + group.name + ", meets soon." in html


def test_the_due_time_is_shown_in_the_programs_time_zone(coordinator_client, program):
    program.timezone = "Asia/Tokyo"
    program.save()
    session = SessionFactory(group=group_of(program), starts_at=at(10, hour=1))

    response = upcoming(coordinator_client, program)

    due = (session.starts_at - timedelta(days=7)).astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert due.hour == 10
    assert f"{due:%a %b} {due.day}, 10:00" in response.content.decode()


def test_people_who_left_opted_out_or_are_inactive_are_not_planned(coordinator_client, program):
    group = group_of(program, 0)
    stays, leaves, opts_out, inactive = (
        GroupMembershipFactory(group=group).clinician for _ in range(4)
    )
    group.memberships.filter(clinician=leaves).update(left_on=timezone.localdate())
    Clinician.objects.filter(pk=inactive.pk).update(status=Clinician.Status.INACTIVE)
    OutboxOptOut.objects.create(program=program, email=opts_out.email)
    SessionFactory(group=group, starts_at=timezone.now() - timedelta(hours=3))
    SessionFactory(group=group, starts_at=at(6))  # the next meeting, reminder due now

    response = upcoming(coordinator_client, program)

    to = {p.due.kind: {email for _, email in p.recipients} for p in response.context["planned"]}
    assert to[K.NEXT_MEETING] == {stays.email}  # optional: the opt-out gets none
    assert {stays.email, opts_out.email} <= to[K.SESSION_REMINDER]  # not optional
    for emails in to.values():
        assert leaves.email not in emails and inactive.email not in emails


def _year(program, coordinator, capture, sessions: int):
    """A program with invited people, ``sessions`` sessions over a month in two groups from
    next week, a confirmed presenter, an opt-out and an open survey wave."""
    groups = [group_of(program, 3), group_of(program, 2)]
    for _ in range(2):
        ClinicianFactory(program=program, status=Clinician.Status.INVITED)
    made = [
        SessionFactory(group=groups[i % 2], starts_at=at(8 + i * 30 / sessions, hour=8 + i % 9))
        for i in range(sessions)
    ]
    member = groups[0].memberships.first().clinician
    PresentationFactory(session=made[0], clinician=member)
    OutboxOptOut.objects.create(program=program, email=groups[1].memberships.last().clinician.email)
    with capture(execute=True):
        waves.wave_open(
            program=program, actor=coordinator, name="Spring", audience=Wave.Audience.ALL_ACTIVE,
            closes_at=at(12), reminder_days=3,
        )  # fmt: skip
    return made


def test_the_forecast_is_what_the_scan_queues_when_each_message_comes_due(
    program, coordinator, django_capture_on_commit_callbacks
):
    _year(program, coordinator, django_capture_on_commit_callbacks, sessions=6)
    before = set(OutboxMessage.objects.values_list("pk", flat=True))  # the wave's invitations
    now = timezone.now()

    planned = outbox_forecast(program=program, now=now, previews=False)
    for due_at in sorted({p.due.due_at for p in planned}):
        reminders_scan(now=due_at, enqueue=False)  # the clock stopped at that due time

    def key(row):
        return (row.kind, row.object_id, row.recipient_type, row.recipient_id, row.occurrence,
                row.email, row.due_at)  # fmt: skip

    forecast = sorted(key(r) for p in planned for r in p.rows)
    queued = sorted(
        key(r)
        for r in OutboxMessage.objects.exclude(pk__in=before).filter(
            status=S.PENDING, due_at__lte=now + timedelta(days=30)
        )
    )
    assert queued == forecast
    kinds = {p.due.kind for p in planned}
    assert kinds == {
        K.LAUNCH_SECOND, K.SESSION_REMINDER, K.PRESENTER_REMINDER, K.NO_PRESENTER,
        K.NEXT_MEETING, SURVEY_REMINDER,
    }  # fmt: skip


@pytest.mark.parametrize(
    "kind", [K.SESSION_REMINDER, K.PRESENTER_REMINDER, K.NEXT_MEETING, SURVEY_REMINDER]
)
def test_the_preview_is_the_message_that_is_sent(
    kind, program, coordinator, django_capture_on_commit_callbacks, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    _year(program, coordinator, django_capture_on_commit_callbacks, sessions=3)
    planned = next(p for p in outbox_forecast(program=program) if p.due.kind == kind)
    first = planned.rows[0]

    reminders_scan(now=planned.due.due_at, enqueue=False)
    row = OutboxMessage.objects.get(
        kind=kind, object_id=first.object_id, occurrence=first.occurrence,
        recipient_type=first.recipient_type, recipient_id=first.recipient_id,
    )  # fmt: skip
    mail.outbox.clear()
    assert outbox_send(message_id=row.pk) == "sent"

    sent = mail.outbox[0]
    body = planned.preview.text
    if kind == SURVEY_REMINDER:
        link = WaveRecipient.objects.get(wave_id=row.object_id, clinician_id=row.recipient_id)
        body = body.replace(PERSONAL_LINK, waves.link_url(link))
    if kind in (K.NEXT_MEETING, SURVEY_REMINDER):  # optional: an unsubscribe link
        body = body.replace(UNSUBSCRIBE_LINK, sent.extra_headers["List-Unsubscribe"].strip("<>"))
    assert (sent.to, sent.subject, sent.body) == ([row.email], planned.preview.subject, body)


def test_the_upcoming_tab_costs_the_same_queries_for_3_and_30_sessions(
    client, django_capture_on_commit_callbacks
):
    counts, planned = [], []
    for n in (3, 30):
        program = ProgramFactory()
        coordinator = ProgramRoleFactory(program=program).user
        client.force_login(coordinator)
        _year(program, coordinator, django_capture_on_commit_callbacks, sessions=n)
        with CaptureQueriesContext(connection) as queries:
            response = upcoming(client, program)
        assert response.status_code == 200
        counts.append(len(queries))
        planned.append(len(response.context["planned"]))
    assert planned[1] > planned[0] * 5
    # Never more: only the first messages' lookups are loaded, which may span fewer kinds.
    assert counts[1] <= counts[0]


def test_a_busy_month_shows_recipients_and_previews_of_the_first_messages_then_all_on_request(
    program, coordinator_client
):
    groups = [group_of(program, 2, name=f"Group {letter}") for letter in "ABCDEFGH"]
    for group in groups:
        for day in (10, 24):
            SessionFactory(group=group, starts_at=at(day))

    first = upcoming(coordinator_client, program)
    everything = coordinator_client.get(
        reverse("outbox:outbox", kwargs={"slug": program.slug}) + "?tab=upcoming&all=1"
    )

    planned = first.context["planned"]
    assert len(planned) > PLANNED_DETAILED
    assert all(p.preview for p in planned[:PLANNED_DETAILED])
    assert not any(p.preview or p.recipients for p in planned[PLANNED_DETAILED:])
    assert f"of the first {PLANNED_DETAILED} of {len(planned)} planned" in first.content.decode()
    assert all(p.preview for p in everything.context["planned"])
    assert "planned-more" not in everything.content.decode()


def test_a_month_of_many_groups_lists_the_first_planned_messages_then_all_on_request(
    program, coordinator_client
):
    for number in range(14):
        group = group_of(program, 1, name=f"Group {number:02d}")
        for day in (9, 16):
            SessionFactory(group=group, starts_at=at(day))

    first = upcoming(coordinator_client, program)
    everything = coordinator_client.get(
        reverse("outbox:outbox", kwargs={"slug": program.slug}) + "?tab=upcoming&all=1"
    )

    planned = first.context["planned"]
    assert len(planned) > PLANNED_LISTED
    page = first.content.decode()
    assert page.count("data-planned=") == PLANNED_LISTED
    assert f"The first {PLANNED_LISTED} of {len(planned)} planned messages are listed" in page
    # The tab's count still counts every planned recipient, listed or not.
    assert first.context["counts"]["upcoming"] >= sum(p.recipient_count for p in planned)
    assert everything.content.decode().count("data-planned=") == len(planned)
    assert "planned-more" not in everything.content.decode()
