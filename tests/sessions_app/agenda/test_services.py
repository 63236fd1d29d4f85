"""Agenda services: template validation and copies, apply to upcoming sessions, the agenda
page's clock times and people, the live view's clock, take-home points."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ccdg.models import AuditEvent
from sessions_app.agenda import selectors as agenda_selectors
from sessions_app.agenda import services as agenda_services
from sessions_app.agenda.selectors import live_state
from sessions_app.models import (
    AgendaSegment,
    AgendaTemplate,
    Presentation,
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
    RoomFactory,
    RsvpFactory,
    SessionFactory,
    SessionSegmentFactory,
    TakeHomePointFactory,
    UserFactory,
)
from tests.sessions_app.helpers import NEW_YORK, RULE

CCDG_STARTS = [0, 5, 15, 30, 55]
CCDG_TITLES = [
    "Check-in and ground rules",
    "Case presentation",
    "Interpretation of the clinician-patient relationship",
    "Open discussion",
    "Wrap-up and close",
]


def next_january(day: int = 12) -> date:
    """A winter date next year: New York is on EST (UTC-5) then."""
    return date(timezone.now().year + 1, 1, day)


def builtin(name: str = "CCDG 60 minutes") -> AgendaTemplate:
    return AgendaTemplate.objects.get(program__isnull=True, name=name)


def schedule(group, *, day: date | None = None, hour=7, minute=30, room=None, agenda=None):
    starts_at = datetime.combine(day or next_january(), datetime.min.time(), tzinfo=NEW_YORK)
    return schedule_services.session_create(
        group=group,
        starts_at=starts_at.replace(hour=hour, minute=minute),
        duration_minutes=60,
        room=room,
        agenda=agenda or builtin(),
        actor=None,
    )


def segments_of(session: Session) -> list[tuple[int, str]]:
    return list(SessionSegment.objects.filter(session=session).values_list("start_minute", "title"))


def own_template(program, starts=(0, 10, 40), name="Our agenda") -> AgendaTemplate:
    return agenda_services.agenda_template_save(
        program=program,
        name=name,
        duration_minutes=60,
        segments=[{"start_minute": s, "title": f"Part at {s}"} for s in starts],
        actor=None,
    )


# --- Offsets -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "minutes"), [("0", 0), ("15", 15), ("0:15", 15), ("1:05", 65), (" 0:55 ", 55)]
)
def test_offset_parse_reads_minutes_or_hours_and_minutes(typed, minutes):
    assert agenda_services.offset_parse(typed) == minutes


@pytest.mark.parametrize("typed", ["", "abc", "0:5", "0:75", "-5", "1:2:3", "5m"])
def test_offset_parse_refuses_what_is_not_a_time(typed):
    with pytest.raises(ValueError):
        agenda_services.offset_parse(typed)


# --- Template validation: messages, nothing saved ---------------------------------------------


@pytest.mark.parametrize(
    ("starts", "message"),
    [
        ([5, 15, 30], "The first segment must start at 0:00, not 0:05."),
        ([0, 30, 15], "Segments must start in order: 0:15 comes after 0:30."),
        ([0, 15, 15], "Segments must start in order: 0:15 comes after 0:15."),
        ([0, 30, 60], "The segment at 1:00 starts at or after the end (1:00)."),
        ([0, 30, 75], "The segment at 1:15 starts at or after the end (1:00)."),
        ([], "An agenda needs at least one segment."),
    ],
)
def test_invalid_agenda_is_refused_with_its_message_and_nothing_is_saved(program, starts, message):
    with pytest.raises(ValidationError) as caught:
        own_template(program, starts=starts)

    assert caught.value.messages == [message]
    assert AgendaTemplate.objects.filter(program=program).count() == 0
    assert AgendaSegment.objects.filter(template__program=program).count() == 0


def test_invalid_edit_leaves_the_template_as_it_was(program):
    template = own_template(program, starts=(0, 10, 40))

    with pytest.raises(ValidationError):
        agenda_services.agenda_template_save(
            program=program,
            name="Renamed",
            duration_minutes=60,
            segments=[{"start_minute": 0, "title": "A"}, {"start_minute": 0, "title": "B"}],
            actor=None,
            template=template,
        )

    template.refresh_from_db()
    assert template.name == "Our agenda"
    assert list(template.segments.values_list("start_minute", flat=True)) == [0, 10, 40]


# --- Copies, edits and apply to upcoming -------------------------------------------------------


def test_copy_of_a_builtin_is_the_programs_own_with_the_same_segments(program):
    copy = agenda_services.agenda_template_copy(template=builtin(), program=program, actor=None)
    again = agenda_services.agenda_template_copy(template=builtin(), program=program, actor=None)

    assert (copy.program, copy.built_in, copy.name) == (program, False, "CCDG 60 minutes (copy)")
    assert again.name == "CCDG 60 minutes (copy 2)"
    assert list(copy.segments.values_list("start_minute", "title")) == list(
        zip(CCDG_STARTS, CCDG_TITLES, strict=True)
    )
    assert builtin().segments.count() == 5


def test_editing_a_template_does_not_change_sessions_already_scheduled(program):
    template = own_template(program, starts=(0, 10, 40))
    session = schedule(GroupFactory(program=program), agenda=template)

    agenda_services.agenda_template_save(
        program=program,
        name="Our agenda",
        duration_minutes=60,
        segments=[{"start_minute": 0, "title": "Only one"}],
        actor=None,
        template=template,
    )

    assert segments_of(session) == [(0, "Part at 0"), (10, "Part at 10"), (40, "Part at 40")]
    assert list(template.segments.values_list("title", flat=True)) == ["Only one"]


def test_apply_to_upcoming_replaces_upcoming_copies_and_leaves_past_started_and_cancelled(
    program,
):
    group = GroupFactory(program=program)
    upcoming = [schedule(group, day=next_january(d)) for d in (12, 19)]
    started = schedule(group, day=next_january(26))
    Session.objects.filter(pk=started.pk).update(live_started_at=timezone.now())
    cancelled = schedule(group, day=next_january(27))
    schedule_services.session_cancel(session=cancelled, reason="Holiday", actor=None)
    past = SessionFactory(group=group, starts_at=timezone.now() - timedelta(days=30))
    SessionSegmentFactory(session=past, start_minute=0, title="Old agenda")
    other_program_session = schedule(GroupFactory())
    template = own_template(program, starts=(0, 20))

    count = schedule_services.agenda_apply_to_upcoming(
        template=template, program=program, actor=None
    )

    assert count == 2
    for session in upcoming:
        assert segments_of(session) == [(0, "Part at 0"), (20, "Part at 20")]
        session.refresh_from_db()
        assert session.agenda_name == "Our agenda"
    ccdg = list(zip(CCDG_STARTS, CCDG_TITLES, strict=True))
    assert segments_of(started) == ccdg
    assert segments_of(cancelled) == ccdg
    assert segments_of(other_program_session) == ccdg
    assert segments_of(past) == [(0, "Old agenda")]


def test_upcoming_count_matches_what_apply_changes(program):
    group = GroupFactory(program=program)
    schedule(group, day=next_january(12))
    started = schedule(group, day=next_january(19))
    Session.objects.filter(pk=started.pk).update(live_started_at=timezone.now())

    assert agenda_selectors.agenda_upcoming_count(program=program) == 1


def test_template_list_has_builtins_then_the_programs_own_not_other_programs(program):
    own_template(program, name="Ours")
    own_template(ProgramFactory(), name="Theirs")

    names = [t.name for t in agenda_selectors.agenda_template_list(program=program)]

    assert names == ["Balint 90 minutes", "CCDG 60 minutes", "CCDG 60 minutes, two cases", "Ours"]


def test_only_the_programs_own_templates_are_editable(program):
    with pytest.raises(AgendaTemplate.DoesNotExist):
        agenda_selectors.agenda_template_get(program=program, pk=builtin().pk, editable=True)
    assert (
        agenda_selectors.agenda_template_get(program=program, pk=builtin().pk, editable=False)
        == builtin()
    )


# --- The agenda page's content ------------------------------------------------------------------


def test_agenda_clock_times_are_in_the_programs_time_zone(program):
    session = schedule(GroupFactory(program=program), day=next_january(12))
    # Computed independently: 07:30 EST is 12:30 UTC.
    assert session.starts_at.astimezone(UTC).strftime("%H:%M") == "12:30"

    agenda = agenda_selectors.session_agenda_get(session=session)

    assert [(r.at.strftime("%H:%M"), r.title) for r in agenda.rows] == [
        ("07:30", "Check-in and ground rules"),
        ("07:35", "Case presentation"),
        ("07:45", "Interpretation of the clinician-patient relationship"),
        ("08:00", "Open discussion"),
        ("08:25", "Wrap-up and close"),
    ]
    assert agenda.ends_at.strftime("%H:%M") == "08:30"
    assert agenda.rows[0].at.utcoffset() == timedelta(hours=-5)


def test_agenda_clock_times_follow_another_time_zone_in_summer(db):
    program = ProgramFactory(timezone="Europe/Berlin")
    day = date(timezone.now().year + 1, 7, 13)
    starts_at = datetime(day.year, 7, 13, 12, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))
    session = schedule_services.session_create(
        group=GroupFactory(program=program),
        starts_at=starts_at,
        duration_minutes=60,
        room=None,
        agenda=builtin(),
        actor=None,
    )

    agenda = agenda_selectors.session_agenda_get(session=session)

    assert session.starts_at.astimezone(UTC).strftime("%H:%M") == "10:00"
    assert [r.at.strftime("%H:%M") for r in agenda.rows] == [
        "12:00",
        "12:05",
        "12:15",
        "12:30",
        "12:55",
    ]


def test_agenda_shows_confirmed_presenters_current_members_with_rsvps_and_the_next_meeting(
    program,
):
    group = GroupFactory(program=program)
    room = RoomFactory(program=program, name="Room 4B", location="Tower 4")
    session = schedule(group, day=next_january(12))
    later = schedule(group, day=next_january(26), room=room)
    nearer = schedule(group, day=next_january(19))  # nearer, but cancelled
    schedule_services.session_cancel(session=nearer, reason="Conference", actor=None)
    schedule(GroupFactory(program=program), day=next_january(14))  # another group's
    ana = GroupMembershipFactory(
        group=group, clinician__first_name="Ana", clinician__last_name="Ruiz"
    ).clinician
    ben = GroupMembershipFactory(
        group=group, clinician__first_name="Ben", clinician__last_name="Okoro"
    ).clinician
    GroupMembershipFactory(
        group=group,
        clinician__first_name="Left",
        clinician__last_name="Already",
        left_on=date(2026, 10, 1),
    )
    RsvpFactory(session=session, clinician=ben, answer=Rsvp.Answer.NOT_GOING)
    RsvpFactory(session=session, clinician=ana, answer=Rsvp.Answer.GOING)
    PresentationFactory(session=session, clinician=ana, working_title="The patient who won't")
    PresentationFactory(
        session=session,
        clinician=ben,
        status=Presentation.Status.WAITLISTED,
        slot=None,
        working_title="Waiting",
    )
    FacilitatorAssignmentFactory(group=group, facilitator__name="Dr. Lead")

    agenda = agenda_selectors.session_agenda_get(session=session)

    assert [(p.name, p.working_title) for p in agenda.presenters] == [
        ("Ana Ruiz", "The patient who won't")
    ]
    assert [(a.name, a.rsvp, a.not_going) for a in agenda.attendees] == [
        ("Ben Okoro", "not_going", True),
        ("Ana Ruiz", "going", False),
    ]
    assert agenda.expected == 1
    assert agenda.next_session == later
    assert agenda.next_starts_at.strftime("%Y-%m-%d %H:%M") == f"{next_january(26)} 07:30"
    assert agenda.next_session.room.name == "Room 4B"
    assert agenda.facilitators == [("Dr. Lead", "Lead")]


# --- The live clock: a pure function of the row and ``now`` ------------------------------------

T0 = datetime(2027, 1, 12, 12, 30, tzinfo=UTC)


def ccdg_segments() -> list[SessionSegment]:
    return [
        SessionSegment(start_minute=s, title=t)
        for s, t in zip(CCDG_STARTS, CCDG_TITLES, strict=True)
    ]


def live(**fields) -> Session:
    return Session(duration_minutes=60, **fields)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def summary(state) -> tuple:
    return (
        state.segment_title,
        state.seconds_left_segment,
        state.seconds_left_overall,
        state.warning,
    )


def test_live_state_before_the_start_shows_the_whole_session_waiting():
    state = live_state(live(), now=at(0), segments=ccdg_segments())

    assert (state.started, state.paused, state.finished) == (False, False, False)
    assert summary(state) == ("Check-in and ground rules", 300, 3600, False)
    assert state.next_segment_title == "Case presentation"


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (0, ("Check-in and ground rules", 300, 3600, False)),
        (4 + 59 / 60, ("Check-in and ground rules", 1, 3301, False)),
        (5, ("Case presentation", 600, 3300, False)),
        (15, ("Interpretation of the clinician-patient relationship", 900, 2700, False)),
        (54, ("Open discussion", 60, 360, False)),
        (55, ("Wrap-up and close", 300, 300, True)),
        (58.5, ("Wrap-up and close", 90, 90, True)),
    ],
)
def test_live_state_follows_the_agenda_offsets_from_the_start(minutes, expected):
    session = live(live_started_at=T0)

    state = live_state(session, now=at(minutes), segments=ccdg_segments())

    assert summary(state) == expected


def test_live_state_after_the_end_is_finished_with_overtime():
    state = live_state(live(live_started_at=T0), now=at(61), segments=ccdg_segments())

    assert (state.finished, state.warning, state.segment_title) == (
        True,
        True,
        "Wrap-up and close",
    )
    assert (state.seconds_left_overall, state.overtime_seconds) == (0, 60)
    assert state.next_segment_title is None


def test_live_state_while_paused_stands_still():
    session = live(live_started_at=T0, live_paused_at=at(10), live_paused_seconds=0)

    early = live_state(session, now=at(10), segments=ccdg_segments())
    late = live_state(session, now=at(40), segments=ccdg_segments())

    assert early.elapsed_seconds == late.elapsed_seconds == 600
    assert summary(late) == ("Case presentation", 300, 3000, False)
    assert late.paused is True


def test_live_state_without_an_agenda_counts_the_session_as_one_segment():
    state = live_state(live(live_started_at=T0), now=at(20), segments=[])

    assert summary(state) == ("Session", 2400, 2400, False)


# --- Live actions: each locks the row and records the change ------------------------------------


@pytest.fixture
def running(db) -> Session:
    """A CCDG session at T0 whose agenda copy is the built-in one."""
    session = SessionFactory(starts_at=T0)
    for start, title in zip(CCDG_STARTS, CCDG_TITLES, strict=True):
        SessionSegmentFactory(session=session, start_minute=start, title=title)
    return session


def state_at(session: Session, minutes: float):
    session.refresh_from_db()
    return live_state(session, now=at(minutes))


def test_start_sets_the_clock_once(running):
    agenda_services.session_live_start(session=running, actor=None, now=at(0))
    agenda_services.session_live_start(session=running, actor=None, now=at(3))

    running.refresh_from_db()
    assert running.live_started_at == T0
    assert summary(state_at(running, 1)) == ("Check-in and ground rules", 240, 3540, False)


def test_the_live_view_cannot_start_days_before_the_session(running):
    with pytest.raises(ValidationError) as caught:
        agenda_services.session_live_start(session=running, actor=None, now=at(-3 * 24 * 60))

    # T0 is 07:30 in the program's time zone (New York).
    assert caught.value.messages == [
        "It is too early to start: the live view of this session can be started from "
        "Tue Jan 12, 2027 at 07:00, 30 minutes before it begins."
    ]
    running.refresh_from_db()
    assert running.live_started_at is None


def test_the_live_view_starts_from_30_minutes_before_the_session(running):
    with pytest.raises(ValidationError):
        agenda_services.session_live_start(session=running, actor=None, now=at(-31))

    agenda_services.session_live_start(session=running, actor=None, now=at(-30))

    running.refresh_from_db()
    assert running.live_started_at == at(-30)


def test_reset_clears_the_live_state_and_is_audited(running):
    facilitator = UserFactory()
    agenda_services.session_live_start(session=running, actor=facilitator, now=at(0))
    agenda_services.session_live_next(session=running, actor=facilitator, now=at(2))
    agenda_services.session_live_extend(session=running, actor=facilitator, now=at(3))
    agenda_services.session_live_pause(session=running, actor=facilitator, now=at(4))

    agenda_services.session_live_reset(session=running, actor=facilitator, now=at(5))

    running.refresh_from_db()
    assert (
        running.live_started_at,
        running.live_paused_at,
        running.live_paused_seconds,
        running.live_segment,
        running.live_segment_started_at,
        running.live_extra_minutes,
    ) == (None, None, 0, 0, None, 0)
    state = state_at(running, 6)
    assert (state.started, state.segment_index, state.seconds_left_overall) == (False, 0, 3600)
    (event,) = AuditEvent.objects.filter(action="session.live_reset")
    assert (event.object_id, event.actor_id) == (str(running.pk), facilitator.pk)
    # Started again, it begins from the first segment.
    agenda_services.session_live_start(session=running, actor=facilitator, now=at(7))
    assert summary(state_at(running, 7))[0] == "Check-in and ground rules"


def test_resetting_a_live_view_that_was_not_started_changes_nothing(running):
    agenda_services.session_live_reset(session=running, actor=None, now=at(0))

    assert not AuditEvent.objects.filter(action="session.live_reset").exists()


def test_a_cancelled_session_cannot_start(running):
    Session.objects.filter(pk=running.pk).update(status=Session.Status.CANCELLED)

    with pytest.raises(ValidationError) as caught:
        agenda_services.session_live_start(session=running, actor=None, now=at(0))

    assert caught.value.messages == ["This session was cancelled."]
    running.refresh_from_db()
    assert running.live_started_at is None


def test_pause_keeps_the_time_and_resume_continues_from_it(running):
    agenda_services.session_live_start(session=running, actor=None, now=at(0))
    agenda_services.session_live_pause(session=running, actor=None, now=at(10))
    agenda_services.session_live_pause(session=running, actor=None, now=at(12))  # no change

    assert summary(state_at(running, 30)) == ("Case presentation", 300, 3000, False)
    assert state_at(running, 30).paused is True

    agenda_services.session_live_resume(session=running, actor=None, now=at(30))
    running.refresh_from_db()
    assert (running.live_paused_at, running.live_paused_seconds) == (None, 1200)
    # 35 minutes after the start, 15 of them running: the interpretation begins.
    assert summary(state_at(running, 35)) == (
        "Interpretation of the clinician-patient relationship",
        900,
        2700,
        False,
    )


def test_next_jumps_early_and_keeps_the_end(running):
    agenda_services.session_live_start(session=running, actor=None, now=at(0))

    agenda_services.session_live_next(session=running, actor=None, now=at(2))

    running.refresh_from_db()
    assert (running.live_segment, running.live_segment_started_at) == (1, at(2))
    # The skipped 3 minutes go to the case presentation; the end stays at 1:00.
    assert summary(state_at(running, 2)) == ("Case presentation", 780, 3480, False)
    assert state_at(running, 15).segment_title == (
        "Interpretation of the clinician-patient relationship"
    )


def test_next_at_the_last_segment_is_refused(running):
    agenda_services.session_live_start(session=running, actor=None, now=at(0))

    with pytest.raises(ValidationError) as caught:
        agenda_services.session_live_next(session=running, actor=None, now=at(56))

    assert caught.value.messages == ["This is the last segment."]


@pytest.mark.parametrize(
    "action",
    [
        agenda_services.session_live_pause,
        agenda_services.session_live_next,
        agenda_services.session_live_extend,
    ],
)
def test_actions_before_the_start_are_refused(running, action):
    with pytest.raises(ValidationError) as caught:
        action(session=running, actor=None, now=at(0))

    assert caught.value.messages == ["Start the session first."]


def test_extend_lengthens_the_current_segment_and_the_session(running):
    agenda_services.session_live_start(session=running, actor=None, now=at(0))

    agenda_services.session_live_extend(session=running, actor=None, now=at(16))

    running.refresh_from_db()
    assert (running.live_extra_minutes, running.live_segment) == (5, 2)
    # Still the interpretation (no step back to the presentation), now ending at 0:35.
    assert summary(state_at(running, 16)) == (
        "Interpretation of the clinician-patient relationship",
        1140,
        2940,
        False,
    )
    assert state_at(running, 34).segment_title == (
        "Interpretation of the clinician-patient relationship"
    )
    assert state_at(running, 35).segment_title == "Open discussion"
    assert summary(state_at(running, 60)) == ("Wrap-up and close", 300, 300, True)


def test_extend_after_the_end_gives_five_more_minutes(running):
    agenda_services.session_live_start(session=running, actor=None, now=at(0))

    agenda_services.session_live_extend(session=running, actor=None, now=at(62))

    state = state_at(running, 62)
    assert (state.finished, state.seconds_left_overall, state.warning) == (False, 180, True)


def test_warning_comes_five_minutes_before_the_end_including_extensions(running):
    agenda_services.session_live_start(session=running, actor=None, now=at(0))
    agenda_services.session_live_extend(session=running, actor=None, now=at(50))

    assert state_at(running, 59).warning is False
    assert state_at(running, 60).warning is True


# --- Take-home points -------------------------------------------------------------------------


def test_take_home_points_replace_the_previous_ones_in_order(db):
    session = SessionFactory()
    TakeHomePointFactory(session=session, text="Old point")
    user = UserFactory()

    agenda_services.take_home_points_save(
        session=session, texts=["  First  ", "", "Second"], actor=user
    )

    points = list(TakeHomePoint.objects.filter(session=session))
    assert [(p.text, p.created_by) for p in points] == [("First", user), ("Second", user)]


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        ([f"Point {i}" for i in range(6)], "Keep it to 5 points at most; there are 6."),
        (["Fine", "x" * 301], "Point 2 has 301 characters; keep each to 300."),
    ],
)
def test_too_many_or_too_long_points_are_refused_and_nothing_changes(db, texts, message):
    session = SessionFactory()
    TakeHomePointFactory(session=session, text="Kept")

    with pytest.raises(ValidationError) as caught:
        agenda_services.take_home_points_save(session=session, texts=texts, actor=None)

    assert caught.value.messages == [message]
    assert list(TakeHomePoint.objects.filter(session=session).values_list("text", flat=True)) == [
        "Kept"
    ]


def test_take_home_point_with_a_patient_identifier_is_refused_and_nothing_saved(db):
    session = SessionFactory()

    with pytest.raises(ValidationError) as caught:
        agenda_services.take_home_points_save(
            session=session,
            texts=["Listening first helps", "Call Mrs. Alvarez back on March 14th"],
            actor=None,
        )

    *found, rule = caught.value.messages
    assert len(found) == 2
    assert all(m.startswith("Point 2: ") for m in found)
    assert "Mrs. Alvarez" in found[0] + found[1]
    assert "March 14th" in found[0] + found[1]
    assert rule == RULE  # the rule the form's help text states
    assert TakeHomePoint.objects.filter(session=session).count() == 0


def test_take_home_point_with_allowed_details_passes_the_guard():
    assert agenda_services.check_no_identifiers("A 67-year-old, Maria, and her daughter") == []


def test_a_point_of_300_characters_is_accepted(db):
    session = SessionFactory()

    agenda_services.take_home_points_save(session=session, texts=["y" * 300], actor=None)

    assert TakeHomePoint.objects.get(session=session).text == "y" * 300
