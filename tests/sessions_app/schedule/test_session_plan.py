"""A session's theme and two-case plan: a topic shown on the agenda and in the reminders; two
cases give two presenter slots and the agenda with a presentation and a go-around for each;
back to one case restores the program's agenda and slots."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from ccdg.models import AuditEvent
from sessions_app.agenda.models import SessionSegment
from sessions_app.models import Presentation
from sessions_app.schedule import services
from sessions_app.schedule.agenda_builtins import AGENDAS, TWO_CASES
from tests.factories import (
    FacilitatorAssignmentFactory,
    GroupFactory,
    GroupMembershipFactory,
    PresentationFactory,
    ProgramRoleFactory,
    UserFactory,
)
from tests.sessions_app.helpers import NEW_YORK

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(program):
    group = GroupFactory(program=program, name="Wednesday group")
    starts_at = datetime.combine(timezone.localdate() + timedelta(days=12), time(7, 30),
                                 tzinfo=NEW_YORK)  # fmt: skip
    return services.session_create(
        group=group, starts_at=starts_at, duration_minutes=60, room=None,
        agenda=services.agenda_for_program(program), actor=None,
    )  # fmt: skip


def titles(session) -> list[str]:
    return list(
        SessionSegment.objects.filter(session=session)
        .order_by("start_minute")
        .values_list("title", flat=True)
    )


def test_two_cases_give_two_slots_and_each_case_its_presentation_and_go_around(session):
    planned = services.session_plan_set(
        session=session, actor=None, theme="  Patients   who do not follow advice ", two_cases=True
    )

    assert planned.theme == "Patients who do not follow advice"
    assert planned.presenter_slots == 2
    assert planned.agenda_name == TWO_CASES
    expected = [title for _start, title, _guidance in AGENDAS[(TWO_CASES, 60)]]
    assert titles(session) == expected
    assert "First case: go-around" in expected and "Second case: go-around" in expected
    assert AuditEvent.objects.filter(action="session.plan", object_id=str(session.pk)).exists()


def test_back_to_one_case_restores_the_programs_agenda_and_slots(session, program):
    one_case = titles(session)
    services.session_plan_set(session=session, actor=None, theme="", two_cases=True)

    again = services.session_plan_set(session=session, actor=None, theme="", two_cases=False)

    assert again.presenter_slots == program.presenter_slots
    assert again.agenda_name == services.agenda_for_program(program).name
    assert titles(session) == one_case


def test_one_case_is_refused_while_two_presenters_are_confirmed(session, program):
    services.session_plan_set(session=session, actor=None, theme="", two_cases=True)
    for slot_number in (1, 2):
        member = GroupMembershipFactory(group=session.group).clinician
        PresentationFactory(session=session, clinician=member, slot=slot_number,
                            status=Presentation.Status.CONFIRMED)  # fmt: skip

    with pytest.raises(ValidationError, match="Withdraw a presenter first"):
        services.session_plan_set(session=session, actor=None, theme="", two_cases=False)
    session.refresh_from_db()
    assert session.presenter_slots == 2 and session.agenda_name == TWO_CASES


def test_a_theme_that_names_a_patient_is_refused(session):
    with pytest.raises(ValidationError) as refused:
        services.session_plan_set(
            session=session, actor=None, theme="Mrs. Alvarez seen on March 14th", two_cases=False
        )
    assert "names a topic, not a patient" in refused.value.message_dict["theme"][0]
    session.refresh_from_db()
    assert session.theme == ""


def test_a_past_session_cannot_be_planned(session):
    type(session).objects.filter(pk=session.pk).update(starts_at=timezone.now() - timedelta(days=1))
    with pytest.raises(ValidationError, match="session to come"):
        services.session_plan_set(session=session, actor=None, theme="Grief", two_cases=False)


def test_the_groups_facilitator_plans_it_and_the_theme_reaches_agenda_and_reminder(
    client, session, program
):
    from ccdg.models import OutboxMessage
    from ccdg.outbox.rendering import render_message
    from ccdg.outbox.scan import reminders_scan

    lead = FacilitatorAssignmentFactory(group=session.group).facilitator
    lead.user = UserFactory()
    lead.save(update_fields=["user"])
    GroupMembershipFactory(group=session.group)
    client.force_login(lead.user)
    url = reverse("sessions_app:session_plan", kwargs={"slug": program.slug, "pk": session.pk})

    refused = client.post(url, {"theme": "Mr John Smith's MRN 4455667", "two_cases": "on",
                                "mode": "in_person"})  # fmt: skip
    saved = client.post(url, {"theme": "Difficult conversations", "two_cases": "on",
                              "mode": "in_person"})  # fmt: skip

    assert refused.status_code == 400
    assert 'value="Mr John Smith&#x27;s MRN 4455667"' in refused.content.decode()  # kept
    assert saved.status_code == 302
    agenda = client.get(
        reverse("sessions_app:session_agenda", kwargs={"slug": program.slug, "pk": session.pk})
    ).content.decode()
    assert "Theme: Difficult conversations" in agenda and "Second case: go-around" in agenda
    live = client.get(
        reverse("sessions_app:session_live", kwargs={"slug": program.slug, "pk": session.pk})
    ).content.decode()
    assert "Theme: Difficult conversations" in live
    reminders_scan(now=session.starts_at - timedelta(days=6))
    row = OutboxMessage.objects.filter(object_id=session.pk, kind="session_reminder").first()
    assert row is not None
    rendered = render_message(row)
    assert "Theme: Difficult conversations" in rendered.text


def test_a_participant_may_not_plan_a_session(client, session, program):
    member = GroupMembershipFactory(group=session.group).clinician
    participant = UserFactory()
    member.user = participant
    member.save(update_fields=["user"])
    client.force_login(participant)
    url = reverse("sessions_app:session_plan", kwargs={"slug": program.slug, "pk": session.pk})
    assert client.post(url, {"theme": "Grief", "mode": "in_person"}).status_code == 403
    session.refresh_from_db()
    assert session.theme == ""


# --- Online and hybrid sessions ------------------------------------------------------------------

LINK = "https://meet.example.org/j/ccdg-wednesday-4417"


def plan(session, **kwargs):
    kwargs.setdefault("theme", "")
    kwargs.setdefault("two_cases", False)
    return services.session_plan_set(session=session, actor=None, **kwargs)


def test_an_online_session_needs_an_https_link_without_credentials(session):
    for url, message in (
        ("", "needs its meeting link"),
        ("http://meet.example.org/j/1", "https://"),
        ("meet.example.org/j/1", "https://"),
        ("https://user:secret@meet.example.org/j/1", "user name and password"),
    ):
        with pytest.raises(ValidationError, match=message):
            plan(session, mode="online", meeting_url=url)
    session.refresh_from_db()
    assert (session.mode, session.meeting_url) == ("in_person", "")


def test_a_new_link_reaches_calendars_and_in_person_drops_it(session):
    before = session.sequence
    online = plan(session, mode="online", meeting_url=f"  {LINK} ")
    assert (online.mode, online.meeting_url) == ("online", LINK)
    assert online.sequence == before + 1  # calendars take the event again
    assert plan(session, mode="online", meeting_url=LINK).sequence == before + 1  # unchanged

    back = plan(session, mode="in_person", meeting_url=LINK)
    assert (back.mode, back.meeting_url, back.sequence) == ("in_person", "", before + 2)


def test_the_link_is_in_the_members_calendar_reminder_and_pages(client, session, program):
    from ccdg.models import OutboxMessage
    from ccdg.outbox.rendering import render_message
    from ccdg.outbox.scan import reminders_scan
    from sessions_app.schedule.calendar import calendar_bytes

    plan(session, mode="online", meeting_url=LINK)
    member = GroupMembershipFactory(group=session.group).clinician
    member.user = UserFactory()
    member.save(update_fields=["user"])
    client.force_login(member.user)

    page = client.get(
        reverse("sessions_app:session_detail", kwargs={"slug": program.slug, "pk": session.pk})
    ).content.decode()
    session.refresh_from_db()
    ics = calendar_bytes([session], name=program.name).decode()
    reminders_scan(now=session.starts_at - timedelta(days=6))
    row = OutboxMessage.objects.get(object_id=session.pk, kind="session_reminder",
                                    recipient_id=member.pk)  # fmt: skip
    rendered = render_message(row)

    assert f'href="{LINK}"' in page
    assert "LOCATION:" + LINK[:60] in ics.replace("\r\n ", "")
    assert f"Online: join the meeting at {LINK}" in rendered.text
    assert f'href="{LINK}"' in rendered.html


def test_the_plan_page_keeps_a_refused_link(client, session, program):
    coordinator = ProgramRoleFactory(program=program, role="coordinator").user
    client.force_login(coordinator)
    url = reverse("sessions_app:session_plan", kwargs={"slug": program.slug, "pk": session.pk})

    refused = client.post(url, {"mode": "hybrid", "meeting_url": "http://meet.example.org/x"})

    assert refused.status_code == 400
    assert 'value="http://meet.example.org/x"' in refused.content.decode()
    session.refresh_from_db()
    assert session.mode == "in_person"
