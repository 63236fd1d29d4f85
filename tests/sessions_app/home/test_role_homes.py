"""The facilitator's and the participant's homes: their next session and what they do with
it, their groups' attendance or their credit; in a fixed number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    AttendanceFactory,
    FacilitatorAssignmentFactory,
    GroupFactory,
    GroupMembershipFactory,
    PresentationFactory,
    RsvpFactory,
    SessionFactory,
    SessionSegmentFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def in_days(days: int):
    return (timezone.now() + timedelta(days=days)).replace(second=0, microsecond=0)


@pytest.fixture
def facilitated(program):
    user = UserFactory()
    group = GroupFactory(program=program, name="Tuesday")
    FacilitatorAssignmentFactory(group=group, role="lead", facilitator__user=user,
                                 facilitator__program=program)  # fmt: skip
    return user, group


def test_a_facilitator_sees_the_next_session_with_agenda_presenter_answers_and_live_view(
    client, program, facilitated
):
    user, group = facilitated
    SessionFactory(group=group, starts_at=in_days(30))
    session = SessionFactory(group=group, starts_at=in_days(3))
    SessionSegmentFactory(session=session, start_minute=0, title="Check-in")
    SessionSegmentFactory(session=session, start_minute=5, title="Case presentation")
    PresentationFactory(session=session, status="confirmed", clinician__first_name="Ana",
                        clinician__last_name="Lima")  # fmt: skip
    RsvpFactory(session=session, answer="going")
    RsvpFactory(session=session, answer="not_going")
    client.force_login(user)

    response = client.get(reverse("home"))

    panel = response.context["facilitator"]
    assert panel.next.session == session
    assert [s.title for s in panel.segments] == ["Check-in", "Case presentation"]
    page = response.content.decode()
    assert reverse("sessions_app:session_live", args=[program.slug, session.pk]) in page
    assert "Ana Lima" in page
    assert "1 coming, 1 cannot make it" in page


def test_a_facilitator_sees_their_groups_attendance(client, program, facilitated):
    user, group = facilitated
    member = GroupMembershipFactory(
        group=group, joined_on=timezone.localdate() - timedelta(days=30)
    )
    held = SessionFactory(group=group, starts_at=in_days(-7))
    AttendanceFactory(session=held, clinician=member.clinician, status="present")
    client.force_login(user)

    (figure,) = client.get(reverse("home")).context["facilitator"].groups

    assert (figure.group, figure.members, figure.held, figure.share) == (group, 1, 1, 100)


def test_a_participant_answers_and_volunteers_from_the_home_page(client, program):
    user = UserFactory()
    group = GroupFactory(program=program)
    GroupMembershipFactory(group=group, clinician__user=user, clinician__program=program)
    session = SessionFactory(group=group, starts_at=in_days(12))
    client.force_login(user)

    page = client.get(reverse("home")).content.decode()

    assert reverse("sessions_app:rsvp_set", args=[program.slug, session.pk]) in page
    assert reverse("sessions_app:presenter_volunteer", args=[program.slug, session.pk]) in page
    assert "continuing-education hour" in page


def _grow(program, group, n):
    for _ in range(n):
        m = GroupMembershipFactory(group=group, joined_on=timezone.localdate() - timedelta(days=60))
        s = SessionFactory(group=group, starts_at=in_days(-10 - n))
        AttendanceFactory(session=s, clinician=m.clinician, status="present")
        upcoming = SessionFactory(group=group, starts_at=in_days(5 + n))
        PresentationFactory(session=upcoming, status="confirmed")
        RsvpFactory(session=upcoming, clinician=m.clinician, answer="going")


def test_a_facilitators_group_without_upcoming_sessions_is_among_their_groups(
    client, program, facilitated
):
    user, group = facilitated
    quiet = GroupFactory(program=program, name="Thursday")
    FacilitatorAssignmentFactory(group=quiet, role="backup", facilitator__user=user,
                                 facilitator__program=program)  # fmt: skip
    SessionFactory(group=group, starts_at=in_days(3))
    client.force_login(user)

    panel = client.get(reverse("home")).context["facilitator"]

    assert {g.group.name for g in panel.groups} == {"Tuesday", "Thursday"}


def test_the_facilitator_and_participant_homes_cost_fixed_queries(
    client, program, facilitated, django_assert_num_queries
):
    user, group = facilitated
    participant = UserFactory()
    GroupMembershipFactory(group=group, clinician__user=participant, clinician__program=program)
    counts = {}
    for who in (user, participant):
        _grow(program, group, 1)
        client.force_login(who)
        client.get(reverse("home"))
        with CaptureQueriesContext(connection) as one:
            client.get(reverse("home"))
        counts[who.pk] = len(one.captured_queries)
    _grow(program, group, 8)
    for who in (user, participant):
        client.force_login(who)
        client.get(reverse("home"))
        with django_assert_num_queries(counts[who.pk]):
            client.get(reverse("home"))
