"""The coordinator's home: what needs attention over the next four weeks (each item linking
to where it is fixed), the next sessions, the program's health; in a fixed number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ccdg import attention
from surveys.models import Wave
from tests.factories import (
    AttendanceFactory,
    ClinicianFactory,
    FacilitatorAbsenceFactory,
    FacilitatorAssignmentFactory,
    GroupFactory,
    GroupMembershipFactory,
    InvitationFactory,
    OutboxMessageFactory,
    PresentationFactory,
    ProgramRoleFactory,
    RefreshmentOrderFactory,
    RoomFactory,
    SessionFactory,
    UserFactory,
    WaveFactory,
)

pytestmark = pytest.mark.django_db


def items(client) -> dict[str, list]:
    response = client.get(reverse("home"))
    assert response.status_code == 200
    found: dict[str, list] = {}
    for item in response.context["coordinator"].attention:
        found.setdefault(item.kind, []).append(item)
    return found


def in_days(days: int):
    return (timezone.now() + timedelta(days=days)).replace(second=0, microsecond=0)


def test_a_session_without_presenter_or_room_needs_attention_and_links_where_it_is_fixed(
    coordinator_client, program
):
    session = SessionFactory(
        group=GroupFactory(program=program, name="Tuesday"), starts_at=in_days(10)
    )

    found = items(coordinator_client)

    (presenter,) = found["session.no_presenter"]
    assert "Tuesday" in presenter.text and "no presenter confirmed" in presenter.text
    assert presenter.url == reverse(
        "sessions_app:session_presenters", args=[program.slug, session.pk]
    )
    (room,) = found["session.no_room"]
    assert room.url == reverse("sessions_app:session_detail", args=[program.slug, session.pk])
    assert found["day.refreshments"][0].url == reverse(
        "sessions_app:refreshment_list", args=[program.slug]
    )


def test_what_is_arranged_or_beyond_four_weeks_does_not_need_attention(coordinator_client, program):
    group = GroupFactory(program=program)
    FacilitatorAssignmentFactory(group=group, role="lead")
    ready = SessionFactory(group=group, starts_at=in_days(10), room=RoomFactory(program=program))
    PresentationFactory(session=ready, status="confirmed")
    RefreshmentOrderFactory(
        program=program, date=program.local_day(ready.starts_at), status="confirmed"
    )
    SessionFactory(group=group, starts_at=in_days(40))  # beyond the window

    assert items(coordinator_client) == {}
    page = coordinator_client.get(reverse("home")).content.decode()
    assert "Nothing needs your attention for the next four weeks." in page


def test_a_group_whose_lead_and_backups_are_all_absent_is_urgent(coordinator_client, program):
    group = GroupFactory(program=program)
    lead = FacilitatorAssignmentFactory(group=group, role="lead").facilitator
    backup = FacilitatorAssignmentFactory(group=group, role="backup").facilitator
    session = SessionFactory(group=group, starts_at=in_days(5))
    FacilitatorAbsenceFactory(session=session, facilitator=lead)

    assert "session.no_facilitator" not in items(coordinator_client)  # the backup leads

    FacilitatorAbsenceFactory(session=session, facilitator=backup)
    (gap,) = items(coordinator_client)["session.no_facilitator"]
    assert gap.level == "danger"
    assert gap.url == reverse("sessions_app:session_coverage", args=[program.slug])


def test_failed_messages_and_old_invitations_need_attention(coordinator_client, program):
    OutboxMessageFactory(program=program, status="failed")
    OutboxMessageFactory(program=program, status="failed")
    OutboxMessageFactory(program=program, status="sent")
    InvitationFactory(
        clinician=ClinicianFactory(program=program), expires_at=in_days(20)
    ).__class__.objects.update(created_at=timezone.now() - timedelta(days=8))
    InvitationFactory(clinician=ClinicianFactory(program=program), expires_at=in_days(20))

    found = items(coordinator_client)

    assert found["outbox.failed"][0].text == "2 messages could not be sent"
    assert found["outbox.failed"][0].level == "danger"
    assert found["roster.invitations"][0].text == "1 invitation not accepted after a week"


def test_an_open_survey_shows_its_response_rate_and_days_left(coordinator_client, program):
    wave = WaveFactory(
        program=program, name="Spring", source=Wave.Source.ONLINE,
        opens_at=timezone.now() - timedelta(days=3), closes_at=timezone.now() + timedelta(days=5),
        distributed_count=None,
    )  # fmt: skip

    (open_wave,) = items(coordinator_client)["survey.open"]

    assert open_wave.text == "Survey “Spring” is open: 0 of 0 answered, 5 days left"
    assert open_wave.url == reverse("surveys:wave_detail", args=[program.slug, wave.slug])


def test_the_health_figures_count_attendance_per_meeting_day(coordinator_client, program):
    program.eligible_clinicians = 10
    program.save()
    group = GroupFactory(program=program)
    members = [
        GroupMembershipFactory(group=group, joined_on=timezone.localdate() - timedelta(days=60))
        for _ in range(4)
    ]
    held = SessionFactory(group=group, starts_at=in_days(-7))
    for m, status in zip(members, ["present", "present", "present", "absent"], strict=True):
        AttendanceFactory(session=held, clinician=m.clinician, status=status)
    PresentationFactory(session=held, clinician=members[0].clinician, status="confirmed")

    health = coordinator_client.get(reverse("home")).context["coordinator"].health

    (day,) = health.days
    assert (day.present, day.members, day.of_members, day.of_eligible) == (3, 4, 75, 30)
    assert health.presentations_per_participant == 0.25


def test_only_coordinators_see_what_needs_attention(client, program):
    participant = UserFactory()
    GroupMembershipFactory(group=GroupFactory(program=program), clinician__user=participant)
    SessionFactory(group=GroupFactory(program=program), starts_at=in_days(3))
    client.force_login(participant)

    response = client.get(reverse("home"))

    assert "coordinator" not in response.context
    assert "Needs attention" not in response.content.decode()


def _grow(program, n: int) -> None:
    """Groups with sessions that need attention, members, attendance, waves, messages."""
    for _ in range(n):
        group = GroupFactory(program=program)
        FacilitatorAssignmentFactory(group=group, role="lead")
        FacilitatorAssignmentFactory(group=group, role="backup")
        m = GroupMembershipFactory(group=group, joined_on=timezone.localdate() - timedelta(days=90))
        held = SessionFactory(group=group, starts_at=in_days(-14))
        AttendanceFactory(session=held, clinician=m.clinician, status="present")
        SessionFactory(group=group, starts_at=in_days(6))
        SessionFactory(group=group, starts_at=in_days(20), room=RoomFactory(program=program))
        OutboxMessageFactory(program=program, status="failed")
        WaveFactory(program=program, source=Wave.Source.ONLINE, distributed_count=None,
                    closes_at=timezone.now() + timedelta(days=4))  # fmt: skip


def test_the_coordinators_home_costs_the_same_queries_for_one_group_and_ten(
    coordinator_client, program, django_assert_num_queries
):
    _grow(program, 1)
    coordinator_client.get(reverse("home"))
    with CaptureQueriesContext(connection) as one:
        coordinator_client.get(reverse("home"))
    _grow(program, 9)

    with django_assert_num_queries(len(one.captured_queries)):
        response = coordinator_client.get(reverse("home"))

    assert len(response.context["coordinator"].attention) > 20


def test_an_attention_provider_name_taken_twice_is_refused():
    first = attention.registered()["sessions"]

    with pytest.raises(ImproperlyConfigured, match="registered twice"):
        attention.register("sessions", lambda **kw: [])
    assert attention.registered()["sessions"] is first


def test_a_coordinator_of_two_programs_chooses_which_one_the_home_shows(client, program):
    other = ProgramRoleFactory(role="coordinator").program
    user = ProgramRoleFactory(program=program, role="coordinator").user
    ProgramRoleFactory(program=other, user=user, role="coordinator")
    client.force_login(user)

    shown = client.get(reverse("home"), {"program": other.slug}).context["coordinator"].program

    assert shown == other


def test_the_health_figures_are_kept_two_minutes_and_say_as_of_when(coordinator_client, program):
    from django.core.cache import cache

    from sessions_app.home.dashboard import HEALTH_SECONDS, Health

    first = coordinator_client.get("/").content.decode()
    kept = cache.get(f"home:health:{program.pk}:{program.academic_year}")
    again = coordinator_client.get("/").content.decode()

    assert HEALTH_SECONDS == 120
    assert "Figures as of" in first and "every two minutes" in first
    assert isinstance(kept, Health) and kept.as_of is not None
    assert first.split('id="health-as-of"')[1][:60] == again.split('id="health-as-of"')[1][:60]
