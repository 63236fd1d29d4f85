"""Calendar feeds and .ics downloads, parsed back with icalendar: stable UIDs, growing
SEQUENCE, cancelled events kept as STATUS:CANCELLED, nothing about cases, private tokens."""

from __future__ import annotations

import logging
from datetime import time, timedelta

import pytest
from django.urls import reverse
from icalendar import Calendar

from sessions_app.models import CalendarToken, FacilitatorAssignment, ProgramRole
from sessions_app.schedule import services as schedule_services
from sessions_app.schedule import services as svc
from tests.factories import (
    FacilitatorAssignmentFactory,
    FacilitatorFactory,
    GroupFactory,
    PresentationFactory,
    ProgramFactory,
    ProgramRoleFactory,
    RoomFactory,
    UserFactory,
)
from tests.sessions_app.helpers import NEW_YORK
from tests.sessions_app.schedule.helpers import member, schedule

pytestmark = pytest.mark.django_db


def feed_url(token: str) -> str:
    return reverse("sessions_app:calendar_feed", kwargs={"token": token})


def events(body: bytes) -> list:
    return Calendar.from_ical(body).walk("VEVENT")


def fetch(client, token):
    response = client.get(feed_url(token))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return events(response.content)


def test_person_feed_lists_the_sessions_of_their_group_with_local_times(client):
    program = ProgramFactory(name="Medicine CCDG", timezone="America/New_York")
    group = GroupFactory(program=program, name="Group A")
    room = RoomFactory(program=program, name="Osler Room", location="Building A, 2nd floor")
    session = schedule(group, room=room)
    schedule(GroupFactory(program=program), days=11)  # another group: not in the feed
    token = svc.calendar_token_create(user=member(group))

    [event] = fetch(client, token)

    assert str(event["UID"]) == f"{session.uid}@ccdg"
    assert event["SEQUENCE"] == 0
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["SUMMARY"]) == "Medicine CCDG — Group A"
    assert str(event["LOCATION"]) == "Osler Room, Building A, 2nd floor"
    start = event.decoded("DTSTART")
    assert start == session.starts_at
    assert start.astimezone(NEW_YORK).time() == time(7, 30)
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert event.decoded("DTEND") - start == timedelta(minutes=60)
    description = str(event["DESCRIPTION"])
    assert "07:30 Check-in and ground rules" in description
    assert "08:25 Wrap-up and close" in description
    assert "Presenter: not yet confirmed" in description


def test_the_feed_carries_a_vtimezone_for_the_program_zone(client):
    group = GroupFactory(program=ProgramFactory(timezone="America/New_York"))
    schedule(group)
    token = svc.calendar_token_create(user=member(group))

    body = client.get(feed_url(token)).content

    zones = Calendar.from_ical(body).walk("VTIMEZONE")
    assert [str(z["TZID"]) for z in zones] == ["America/New_York"]


def test_facilitators_get_their_groups_in_their_feed(client):
    group = GroupFactory()
    session = schedule(group)
    user = UserFactory()
    FacilitatorAssignmentFactory(
        group=group,
        facilitator=FacilitatorFactory(program=group.program, user=user),
        role=FacilitatorAssignment.Role.BACKUP,
    )
    token = svc.calendar_token_create(user=user)

    assert [str(e["UID"]) for e in fetch(client, token)] == [f"{session.uid}@ccdg"]


def test_reschedule_and_cancel_update_the_same_event(client):
    group = GroupFactory()
    session = schedule(group)
    token = svc.calendar_token_create(user=member(group))
    [before] = fetch(client, token)

    new_start = session.starts_at + timedelta(days=7, minutes=30)
    schedule_services.session_reschedule(
        session=session, starts_at=new_start, room=None, actor=None
    )
    [moved] = fetch(client, token)
    schedule_services.session_cancel(session=session, reason="Holiday", actor=None)
    [cancelled] = fetch(client, token)

    assert str(before["UID"]) == str(moved["UID"]) == str(cancelled["UID"])
    assert [before["SEQUENCE"], moved["SEQUENCE"], cancelled["SEQUENCE"]] == [0, 1, 2]
    assert moved.decoded("DTSTART") == new_start
    assert str(cancelled["STATUS"]) == "CANCELLED"


def test_feeds_never_carry_working_titles_or_case_text(client):
    program = ProgramFactory()
    group = GroupFactory(program=program)
    session = schedule(group)
    PresentationFactory(
        session=session, working_title="Angry father of a child with leukaemia", slot=1
    )
    coordinator = ProgramRoleFactory(program=program, role=ProgramRole.Role.COORDINATOR).user
    person = svc.calendar_token_create(user=member(group))
    whole = svc.calendar_token_create(user=coordinator, scope="program", program=program)
    client.force_login(member(group))
    download = client.get(
        reverse("sessions_app:session_ics", kwargs={"slug": program.slug, "pk": session.pk})
    )

    for body in (
        client.get(feed_url(person)).content,
        client.get(feed_url(whole)).content,
        download.content,
    ):
        assert b"leukaemia" not in body
        assert b"Angry father" not in body
        [event] = events(body)
        assert "Presenter: confirmed" in str(event["DESCRIPTION"])


def test_program_feed_lists_every_group_including_cancelled_sessions(client):
    program = ProgramFactory()
    first = schedule(GroupFactory(program=program), days=10)
    second = schedule(GroupFactory(program=program), days=12)
    schedule(GroupFactory(), days=11)  # another program
    schedule_services.session_cancel(session=second, reason="", actor=None)
    coordinator = ProgramRoleFactory(program=program, role=ProgramRole.Role.COORDINATOR).user
    token = svc.calendar_token_create(user=coordinator, scope="program", program=program)

    found = [(str(e["UID"]), str(e["STATUS"])) for e in fetch(client, token)]

    assert found == [(f"{first.uid}@ccdg", "CONFIRMED"), (f"{second.uid}@ccdg", "CANCELLED")]


def test_revoked_and_unknown_tokens_get_the_same_bare_404(client, caplog):
    group = GroupFactory()
    schedule(group)
    user = member(group)
    token = svc.calendar_token_create(user=user)
    svc.calendar_token_revoke(token=CalendarToken.objects.get(user=user), actor=user)

    with caplog.at_level(logging.INFO):
        revoked = client.get(feed_url(token))
        unknown = client.get(feed_url("x" * 43))

    assert (revoked.status_code, unknown.status_code) == (404, 404)
    assert revoked.content == unknown.content == b"Not found.\n"
    assert token not in caplog.text


def test_a_deactivated_user_s_feed_stops(client):
    group = GroupFactory()
    user = member(group)
    token = svc.calendar_token_create(user=user)
    user.is_active = False
    user.save()

    assert client.get(feed_url(token)).status_code == 404


def test_session_download_is_for_those_who_may_see_the_session(client):
    program = ProgramFactory()
    group = GroupFactory(program=program, name="Group A")
    session = schedule(group)
    url = reverse("sessions_app:session_ics", kwargs={"slug": program.slug, "pk": session.pk})
    other_group_member = member(GroupFactory(program=program))

    client.force_login(member(group))
    response = client.get(url)
    client.force_login(other_group_member)
    refused = client.get(url)

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="session-')
    [event] = events(response.content)
    assert str(event["UID"]) == f"{session.uid}@ccdg"
    assert refused.status_code == 403
