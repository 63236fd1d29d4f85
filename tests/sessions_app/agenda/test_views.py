"""Agenda pages: templates (coordinator), the facilitator's agenda, the live view's endpoints
and take-home points: who may do what, what the pages say, and query counts."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ccdg.models import AuditEvent
from sessions_app.agenda import services as agenda_services
from sessions_app.models import (
    AgendaTemplate,
    ProgramRole,
    Rsvp,
    Session,
    SessionSegment,
    TakeHomePoint,
)
from sessions_app.schedule import services as schedule_services
from tests.factories import (
    FacilitatorAssignmentFactory,
    GroupFactory,
    GroupMembershipFactory,
    PresentationFactory,
    ProgramFactory,
    ProgramRoleFactory,
    RoomFactory,
    RsvpFactory,
    SessionFactory,
    SessionSegmentFactory,
    TakeHomePointFactory,
    UserFactory,
)
from tests.sessions_app.helpers import NEW_YORK, as_user, messages_of, url


def text_of(response, element_id: str) -> str:
    """The text of the element with ``element_id`` (no nested element of the same tag),
    whitespace collapsed."""
    match = re.search(
        rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>(.*?)</\1>', response.content.decode(), re.S
    )
    assert match, f"no #{element_id} in the page"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(2))).split())


def next_january(day: int) -> date:
    return date(timezone.now().year + 1, 1, day)


def builtin() -> AgendaTemplate:
    return AgendaTemplate.objects.get(program__isnull=True, name="CCDG 60 minutes")


def schedule(group, *, day: int = 12, room=None, agenda=None) -> Session:
    return schedule_services.session_create(
        group=group,
        starts_at=datetime.combine(next_january(day), datetime.min.time(), tzinfo=NEW_YORK).replace(
            hour=7, minute=30
        ),
        duration_minutes=60,
        room=room,
        agenda=agenda or builtin(),
        actor=None,
    )


@dataclass
class World:
    program: object
    group: object
    session: Session
    facilitator: object
    participant: object
    participant_clinician: object
    other_participant: object
    other_facilitator: object
    report_viewer: object
    other_coordinator: object


@pytest.fixture
def world(program) -> World:
    group = GroupFactory(program=program, name="Group Blue")
    other_group = GroupFactory(program=program, name="Group Green")
    session = schedule(group)
    facilitator = UserFactory()
    FacilitatorAssignmentFactory(group=group, facilitator__user=facilitator)
    participant = UserFactory()
    membership = GroupMembershipFactory(group=group, clinician__user=participant)
    other_participant = UserFactory()
    GroupMembershipFactory(group=other_group, clinician__user=other_participant)
    other_facilitator = UserFactory()
    FacilitatorAssignmentFactory(group=other_group, facilitator__user=other_facilitator)
    report_viewer = ProgramRoleFactory(program=program, role=ProgramRole.Role.REPORT_VIEWER).user
    other_coordinator = ProgramRoleFactory(program=ProgramFactory()).user
    return World(
        program=program,
        group=group,
        session=session,
        facilitator=facilitator,
        participant=participant,
        participant_clinician=membership.clinician,
        other_participant=other_participant,
        other_facilitator=other_facilitator,
        report_viewer=report_viewer,
        other_coordinator=other_coordinator,
    )


def segment_form(name="Short agenda", duration="60", rows=(), extra=0, initial=0) -> dict[str, str]:
    data = {
        "name": name,
        "duration_minutes": duration,
        "segments-TOTAL_FORMS": str(len(rows) + extra),
        "segments-INITIAL_FORMS": str(initial),
        "segments-MIN_NUM_FORMS": "0",
        "segments-MAX_NUM_FORMS": "1000",
    }
    for i, (start, title, guidance) in enumerate(rows):
        data[f"segments-{i}-start"] = start
        data[f"segments-{i}-title"] = title
        data[f"segments-{i}-guidance"] = guidance
    for i in range(len(rows), len(rows) + extra):
        data.update({f"segments-{i}-start": "", f"segments-{i}-title": ""})
    return data


# --- Agenda templates ---------------------------------------------------------------------------


def test_agenda_list_shows_builtins_read_only_and_the_programs_own(coordinator_client, program):
    agenda_services.agenda_template_save(
        program=program,
        name="Ours",
        duration_minutes=60,
        segments=[{"start_minute": 0, "title": "All"}],
        actor=None,
    )

    response = coordinator_client.get(url("agenda_list", program))

    assert response.status_code == 200
    assert [t.name for t in response.context["built_ins"]] == [
        "Balint 90 minutes",
        "CCDG 60 minutes",
        "CCDG 60 minutes, two cases",
    ]
    assert [t.name for t in response.context["own"]] == ["Ours"]
    page = response.content.decode()
    assert page.count(">Edit<") == 1
    assert '<td class="text-nowrap">0:55</td><td>Wrap-up and close</td>' in page


@pytest.mark.parametrize("who", ["facilitator", "participant", "report_viewer"])
def test_agenda_templates_are_for_coordinators_only(client, world, who):
    response = as_user(client, getattr(world, who)).get(url("agenda_list", world.program))

    assert response.status_code == 403


def test_create_an_agenda_with_offsets_typed_as_minutes_or_h_mm(coordinator_client, program):
    data = segment_form(
        name="Two cases",
        duration="90",
        rows=[
            ("0:00", "Check-in", "Ground rules."),
            ("5", "First case", ""),
            ("0:40", "Second case", ""),
            ("1:20", "Wrap-up", "Take-home points."),
        ],
        extra=2,
    )

    response = coordinator_client.post(url("agenda_create", program), data)

    assert response.status_code == 302
    template = AgendaTemplate.objects.get(program=program, name="Two cases")
    assert template.duration_minutes == 90
    assert list(template.segments.values_list("start_minute", "title", "guidance")) == [
        (0, "Check-in", "Ground rules."),
        (5, "First case", ""),
        (40, "Second case", ""),
        (80, "Wrap-up", "Take-home points."),
    ]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("0:05", "Late start", "")], "The first segment must start at 0:00, not 0:05."),
        (
            [("0", "A", ""), ("30", "B", ""), ("20", "C", "")],
            "Segments must start in order: 0:20 comes after 0:30.",
        ),
        (
            [("0", "A", ""), ("1:10", "B", "")],
            "The segment at 1:10 starts at or after the end (1:00).",
        ),
    ],
)
def test_invalid_agenda_shows_the_problem_keeps_the_typing_and_saves_nothing(
    coordinator_client, program, rows, message
):
    response = coordinator_client.post(
        url("agenda_create", program), segment_form(name="Mine", rows=rows)
    )

    assert response.status_code == 400
    assert message in text_of(response, "agenda-problems")
    page = response.content.decode()
    for start, title, _ in rows:
        assert f'value="{start}"' in page
        assert f'value="{title}"' in page
    assert 'value="Mine"' in page
    assert not AgendaTemplate.objects.filter(program=program).exists()


def test_offset_that_is_not_a_time_is_an_error_on_its_field(coordinator_client, program):
    response = coordinator_client.post(
        url("agenda_create", program), segment_form(rows=[("half past", "Start", "")])
    )

    assert response.status_code == 400
    assert response.context["formset"].errors[0] == {
        "start": ["“half past” is not a time: type minutes (15) or h:mm (0:15)."]
    }
    assert not AgendaTemplate.objects.filter(program=program).exists()


def test_an_agenda_name_is_used_once_per_program(coordinator_client, program):
    agenda_services.agenda_template_save(
        program=program,
        name="Mine",
        duration_minutes=60,
        segments=[{"start_minute": 0, "title": "All"}],
        actor=None,
    )

    response = coordinator_client.post(
        url("agenda_create", program), segment_form(name="Mine", rows=[("0", "A", "")])
    )

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "name": ["The program already has an agenda with this name."]
    }


def test_edit_form_shows_the_segments_as_h_mm_and_saves_changes(coordinator_client, program):
    template = agenda_services.agenda_template_save(
        program=program,
        name="Mine",
        duration_minutes=60,
        segments=[{"start_minute": 0, "title": "A"}, {"start_minute": 65 - 30, "title": "B"}],
        actor=None,
    )
    edit = url("agenda_edit", program, pk=template.pk)

    page = coordinator_client.get(edit).content.decode()
    assert 'value="0:35"' in page

    response = coordinator_client.post(
        edit,
        # As the browser sends it: two rows shown from the template, one of them unchanged.
        segment_form(name="Mine", rows=[("0:00", "A", ""), ("0:40", "B later", "")], initial=2),
    )

    assert response.status_code == 302
    assert list(template.segments.values_list("start_minute", "title")) == [
        (0, "A"),
        (40, "B later"),
    ]


def test_editing_an_agenda_leaves_scheduled_sessions_alone(coordinator_client, world):
    program = world.program
    template = agenda_services.agenda_template_save(
        program=program,
        name="Mine",
        duration_minutes=60,
        segments=[{"start_minute": 0, "title": "A"}],
        actor=None,
    )
    session = schedule(world.group, day=19, agenda=template)

    coordinator_client.post(
        url("agenda_edit", program, pk=template.pk),
        segment_form(name="Mine", rows=[("0", "Changed", "")]),
    )

    assert list(SessionSegment.objects.filter(session=session).values_list("title", flat=True)) == [
        "A"
    ]


def test_builtin_agendas_cannot_be_edited(coordinator_client, program):
    response = coordinator_client.get(url("agenda_edit", program, pk=builtin().pk))

    assert response.status_code == 404


def test_copy_a_builtin_then_edit_the_copy(coordinator_client, program):
    response = coordinator_client.post(url("agenda_copy", program, pk=builtin().pk))

    copy = AgendaTemplate.objects.get(program=program)
    assert response.status_code == 302
    assert response["Location"] == url("agenda_edit", program, pk=copy.pk)
    assert copy.name == "CCDG 60 minutes (copy)"
    assert copy.segments.count() == 5


def test_apply_asks_first_then_replaces_upcoming_sessions_agendas(coordinator_client, world):
    program = world.program
    template = agenda_services.agenda_template_save(
        program=program,
        name="Mine",
        duration_minutes=60,
        segments=[{"start_minute": 0, "title": "One"}, {"start_minute": 30, "title": "Two"}],
        actor=None,
    )
    apply = url("agenda_apply", program, pk=template.pk)

    confirm = coordinator_client.get(apply)
    assert text_of(confirm, "apply-summary").startswith(
        "1 upcoming session of " + program.name + " will get this agenda"
    )
    assert list(world.session.segments.values_list("title", flat=True))[0] == (
        "Check-in and ground rules"
    )

    response = coordinator_client.post(apply, follow=True)

    assert messages_of(response) == ["“Mine” now is the agenda of 1 upcoming session."]
    assert list(world.session.segments.values_list("start_minute", "title")) == [
        (0, "One"),
        (30, "Two"),
    ]


# --- The facilitator's agenda page --------------------------------------------------------------


def test_agenda_page_shows_clock_times_presenter_attendees_and_next_meeting(client, world):
    room = RoomFactory(program=world.program, name="Room 4B", location="Tower 4")
    schedule(world.group, day=26, room=room)
    PresentationFactory(
        session=world.session, clinician=world.participant_clinician, working_title="Silent Mr. K"
    )
    absent = GroupMembershipFactory(
        group=world.group, clinician__first_name="Zoe", clinician__last_name="Absent"
    ).clinician
    RsvpFactory(session=world.session, clinician=absent, answer=Rsvp.Answer.NOT_GOING)

    response = as_user(client, world.facilitator).get(
        url("session_agenda", world.program, pk=world.session.pk)
    )

    assert response.status_code == 200
    rows = re.findall(r"<tr><td[^>]*>(\d\d:\d\d)</td><td>([^<]*)</td>", response.content.decode())
    assert rows == [
        ("07:30", "Check-in and ground rules"),
        ("07:35", "Case presentation"),
        ("07:45", "Interpretation of the clinician-patient relationship"),
        ("08:00", "Open discussion"),
        ("08:25", "Wrap-up and close"),
        ("08:30", "End"),
    ]
    assert text_of(response, "agenda-presenters") == (
        f"{world.participant_clinician.full_name} : “Silent Mr. K”"
    )
    day = next_january(26)
    assert text_of(response, "next-meeting") == (
        f"Next meeting: {day:%A}, {day:%B} {day.day}, {day.year} at 07:30 , Room 4B (Tower 4)."
    )
    attendees = text_of(response, "attendees")
    assert "Zoe Absent Physician Cannot make it" in attendees
    assert "solving the presenter's problem" in text_of(response, "facilitator-prompts")
    assert "“me too” stories" in text_of(response, "facilitator-prompts")
    assert "stays in the group" in text_of(response, "ground-rules")
    assert "<title>Agenda, Group Blue, Jan 12, " in response.content.decode()


def test_agenda_page_without_a_next_meeting_says_so(client, world):
    response = as_user(client, world.facilitator).get(
        url("session_agenda", world.program, pk=world.session.pk)
    )

    assert text_of(response, "next-meeting") == "Next meeting: not scheduled yet."


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("participant", 403),
        ("other_facilitator", 403),
        ("report_viewer", 403),
        ("other_coordinator", 404),
        ("facilitator", 200),
    ],
)
@pytest.mark.parametrize("page", ["session_agenda", "session_live", "session_live_state"])
def test_session_pages_are_for_those_who_run_the_session(client, world, who, status, page):
    response = as_user(client, getattr(world, who)).get(
        url(page, world.program, pk=world.session.pk)
    )

    assert response.status_code == status


def test_session_of_another_program_is_404(coordinator_client, program):
    other = SessionFactory()

    response = coordinator_client.get(url("session_agenda", program, pk=other.pk))

    assert response.status_code == 404


def queries_of(client, path: str) -> int:
    client.get(path)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured.captured_queries)


def test_agenda_page_queries_do_not_grow_with_segments_sessions_and_people(
    client, world, django_assert_num_queries
):
    session = SessionFactory(group=world.group, starts_at=world.session.starts_at - timedelta(1))
    SessionSegmentFactory(session=session, start_minute=0)
    PresentationFactory(session=session)
    as_user(client, world.facilitator)
    path = url("session_agenda", world.program, pk=session.pk)
    one = queries_of(client, path)
    for minute in range(1, 20):
        SessionSegmentFactory(session=session, start_minute=minute * 3, title=f"S{minute}")
    for day in range(13, 32):
        schedule(world.group, day=day)
    for _ in range(19):
        member = GroupMembershipFactory(group=world.group).clinician
        RsvpFactory(session=session, clinician=member, answer=Rsvp.Answer.NOT_GOING)
        FacilitatorAssignmentFactory(group=world.group, role="backup")
    PresentationFactory(session=session, slot=2)

    with django_assert_num_queries(one):
        response = client.get(path)

    assert len(response.context["agenda"].rows) == 20
    assert len(response.context["agenda"].attendees) == 20


def test_agenda_list_queries_do_not_grow_with_templates(
    coordinator_client, program, django_assert_num_queries
):
    def add(n):
        agenda_services.agenda_template_save(
            program=program,
            name=f"Agenda {n}",
            duration_minutes=60,
            segments=[{"start_minute": m * 5, "title": f"S{m}"} for m in range(n % 10 + 1)],
            actor=None,
        )

    add(0)
    one = queries_of(coordinator_client, url("agenda_list", program))
    for n in range(1, 20):
        add(n)

    with django_assert_num_queries(one):
        response = coordinator_client.get(url("agenda_list", program))

    assert len(response.context["own"]) == 20


# --- Live view endpoints ------------------------------------------------------------------------

JSON = {"HTTP_ACCEPT": "application/json"}


def test_live_state_endpoint_returns_the_computed_state(client, world):
    Session.objects.filter(pk=world.session.pk).update(
        live_started_at=timezone.now() - timedelta(minutes=56)
    )

    response = as_user(client, world.facilitator).get(
        url("session_live_state", world.program, pk=world.session.pk)
    )

    state = response.json()
    assert response["Cache-Control"].startswith("max-age=0")
    assert (state["segment_index"], state["segment_title"], state["next_segment_title"]) == (
        4,
        "Wrap-up and close",
        None,
    )
    assert (state["started"], state["paused"], state["warning"]) == (True, False, True)
    assert 235 <= state["seconds_left_overall"] <= 240
    assert state["seconds_left_segment"] == state["seconds_left_overall"]


@pytest.mark.parametrize(
    "action",
    [
        "session_live_start",
        "session_live_pause",
        "session_live_resume",
        "session_live_next",
        "session_live_extend",
    ],
)
@pytest.mark.parametrize(("who", "status"), [("participant", 403), ("other_facilitator", 403)])
def test_live_actions_are_refused_to_those_who_do_not_run_the_session(
    client, world, action, who, status
):
    response = as_user(client, getattr(world, who)).post(
        url(action, world.program, pk=world.session.pk), **JSON
    )

    assert response.status_code == status
    world.session.refresh_from_db()
    assert (world.session.live_started_at, world.session.live_segment) == (None, 0)


def due_soon(session, minutes: int = 10) -> None:
    """Bring the session to ``minutes`` from now: its live view may be started."""
    Session.objects.filter(pk=session.pk).update(
        starts_at=timezone.now() + timedelta(minutes=minutes)
    )


def test_facilitator_starts_moves_on_and_extends_through_json(client, world):
    as_user(client, world.facilitator)
    due_soon(world.session)

    def post(action):
        return client.post(url(action, world.program, pk=world.session.pk), **JSON)

    started = post("session_live_start").json()
    assert (started["error"], started["state"]["started"]) == (None, True)
    assert started["state"]["segment_title"] == "Check-in and ground rules"

    moved = post("session_live_next").json()["state"]
    assert moved["segment_title"] == "Case presentation"

    extended = post("session_live_extend").json()["state"]
    assert extended["extra_minutes"] == 5
    assert 64 * 60 < extended["seconds_left_overall"] <= 65 * 60

    paused = post("session_live_pause").json()["state"]
    assert paused["paused"] is True
    resumed = post("session_live_resume").json()["state"]
    assert resumed["paused"] is False

    # A second device (another client) reads the same state from the server.
    other = as_user(type(client)(), world.facilitator)
    again = other.get(url("session_live_state", world.program, pk=world.session.pk)).json()
    assert (again["segment_index"], again["extra_minutes"]) == (1, 5)


def test_live_action_without_javascript_redirects_back_with_the_problem(client, world):
    as_user(client, world.facilitator)

    response = client.post(
        url("session_live_next", world.program, pk=world.session.pk), follow=True
    )

    assert response.redirect_chain == [
        (url("session_live", world.program, pk=world.session.pk), 302)
    ]
    assert messages_of(response) == ["Start the session first."]


def test_starting_the_live_view_days_before_the_session_is_refused_with_when_it_opens(
    client, world
):
    as_user(client, world.facilitator)
    live = url("session_live", world.program, pk=world.session.pk)
    opens = timezone.localtime(world.session.starts_at, NEW_YORK) - timedelta(minutes=30)

    refused = client.post(url("session_live_start", world.program, pk=world.session.pk), **JSON)
    page = client.get(live)

    when = f"{opens:%a %b} {opens.day}, {opens.year} at {opens:%H:%M}"
    assert refused.status_code == 409
    assert refused.json()["error"] == (
        f"It is too early to start: the live view of this session can be started from {when}, "
        "30 minutes before it begins."
    )
    assert text_of(page, "live-opens") == f"The live view can be started from {when}."
    world.session.refresh_from_db()
    assert world.session.live_started_at is None


def test_the_live_view_can_be_started_half_an_hour_before(client, world):
    due_soon(world.session, minutes=29)

    response = as_user(client, world.facilitator).post(
        url("session_live_start", world.program, pk=world.session.pk), **JSON
    )

    assert response.status_code == 200
    assert response.json()["state"]["started"] is True


def test_a_facilitator_resets_the_live_view_after_confirming(client, world):
    Session.objects.filter(pk=world.session.pk).update(
        live_started_at=timezone.now() - timedelta(minutes=20), live_segment=2, live_extra_minutes=5
    )
    as_user(client, world.facilitator)
    reset = url("session_live_reset", world.program, pk=world.session.pk)

    question = client.get(reset)
    world.session.refresh_from_db()
    still_running = world.session.live_started_at is not None
    done = client.post(reset, follow=True)

    assert question.status_code == 200
    assert "Reset the live view" in question.content.decode()
    assert f'action="{reset}"' in question.content.decode()
    assert still_running
    assert done.redirect_chain == [(url("session_live", world.program, pk=world.session.pk), 302)]
    assert messages_of(done) == ["The live view was reset: it can be started again."]
    world.session.refresh_from_db()
    assert (
        world.session.live_started_at,
        world.session.live_segment,
        world.session.live_extra_minutes,
    ) == (None, 0, 0)
    assert AuditEvent.objects.filter(action="session.live_reset").count() == 1


@pytest.mark.parametrize("who", ["participant", "other_facilitator", "report_viewer"])
def test_only_those_who_run_the_session_may_reset_its_live_view(client, world, who):
    started = timezone.now() - timedelta(minutes=20)
    Session.objects.filter(pk=world.session.pk).update(live_started_at=started)

    response = as_user(client, getattr(world, who)).post(
        url("session_live_reset", world.program, pk=world.session.pk)
    )

    assert response.status_code == 403
    world.session.refresh_from_db()
    assert world.session.live_started_at == started


def test_next_at_the_last_segment_answers_409_with_the_reason(client, world):
    Session.objects.filter(pk=world.session.pk).update(
        live_started_at=timezone.now() - timedelta(minutes=56)
    )

    response = as_user(client, world.facilitator).post(
        url("session_live_next", world.program, pk=world.session.pk), **JSON
    )

    assert response.status_code == 409
    assert response.json()["error"] == "This is the last segment."


def test_live_page_renders_the_state_for_a_reload(client, world):
    Session.objects.filter(pk=world.session.pk).update(
        live_started_at=timezone.now() - timedelta(minutes=31), live_extra_minutes=0
    )

    response = as_user(client, world.facilitator).get(
        url("session_live", world.program, pk=world.session.pk)
    )

    assert text_of(response, "live-segment-title") == "Open discussion"
    assert text_of(response, "live-next-title") == "Wrap-up and close"
    assert text_of(response, "live-status") == "Running"
    assert 'id="live-alert" class="live-alert" role="alert" hidden' in response.content.decode()


# --- Take-home points ---------------------------------------------------------------------------


def test_facilitator_records_points_and_members_read_them(client, world):
    edit = url("session_take_home_edit", world.program, pk=world.session.pk)
    response = as_user(client, world.facilitator).post(
        edit, {"points": "Naming the frustration helped.\n\nListening without fixing."}
    )
    assert response.status_code == 302

    page = as_user(client, world.participant).get(
        url("session_take_home", world.program, pk=world.session.pk)
    )

    assert page.status_code == 200
    assert [p.text for p in page.context["points"]] == [
        "Naming the frustration helped.",
        "Listening without fixing.",
    ]
    assert "Edit the points" not in page.content.decode()


def test_too_many_points_keep_the_typing_and_save_nothing(client, world):
    typed = "\n".join(f"Point number {i}" for i in range(6))

    response = as_user(client, world.facilitator).post(
        url("session_take_home_edit", world.program, pk=world.session.pk), {"points": typed}
    )

    assert response.status_code == 400
    assert text_of(response, "take-home-problems") == (
        "Nothing was saved: Keep it to 5 points at most; there are 6."
    )
    assert "Point number 5" in response.content.decode()
    assert not TakeHomePoint.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("participant", 200),
        ("facilitator", 200),
        ("other_participant", 403),
        ("other_facilitator", 403),
        ("report_viewer", 403),
        ("other_coordinator", 404),
    ],
)
def test_take_home_points_are_for_the_group_only(client, world, who, status):
    TakeHomePointFactory(session=world.session, text="Kept in the group")

    response = as_user(client, getattr(world, who)).get(
        url("session_take_home", world.program, pk=world.session.pk)
    )

    assert response.status_code == status
    if status == 200:
        assert text_of(response, "take-home-points") == "Kept in the group"


def test_participants_cannot_record_take_home_points(client, world):
    response = as_user(client, world.participant).post(
        url("session_take_home_edit", world.program, pk=world.session.pk), {"points": "Mine"}
    )

    assert response.status_code == 403
    assert not TakeHomePoint.objects.exists()
